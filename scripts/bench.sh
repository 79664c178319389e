#!/bin/bash
# bench.sh [KEY]: packet rates through FORWARD rules in the QEMU router (test/vm/bench), each
# configuration as a ratio to the no-rule baseline of the same traffic and CPU count, measured
# in the same VM run; then control-plane times. Absolute numbers depend on the machine (TCG
# here); the ratios are what to compare. Writes build/bench/KEY.txt, and bench/results.md with
# bench/results.png (a gnuplot chart) and bench/profile.md (perf in the guest) unless BENCH_SMOKE
# is set.
# Environment: BENCH_SECONDS and BENCH_PACKETS (a measurement ends after either, default 4 s and
# 1000000), BENCH_ROUNDS (default 3),
# BENCH_STATES (states for the list figure, default 1000), BENCH_SMOKE=1 (a short run that only
# checks that the bench works: build/bench-smoke/, nothing committed is written), BENCH_BEFORE
# (the medians file of another run, e.g. of an older module, shown beside: BENCH_BEFORE_LABEL),
# BENCH_NO_RUN=1 (only the report, from the last run's output; the same variables as that run).
set -eu -o pipefail
key=${1:-6.1}
root=$(cd "$(dirname "$0")/.." && pwd)
# perf (linux-perf) profiles the guest's CPU for bench/profile.md; the smoke checks it works
if [ -n "${BENCH_SMOKE:-}" ]; then
	out=$root/build/bench-smoke
	: "${BENCH_PACKETS:=300}" "${BENCH_ROUNDS:=1}" "${BENCH_STATES:=5}"
	"$root/scripts/host-deps.sh" linux-perf >/dev/null
else
	out=$root/build/bench
	"$root/scripts/host-deps.sh" gnuplot-nox linux-perf >/dev/null
fi
mkdir -p "$out"
packets=${BENCH_PACKETS:-1000000} rounds=${BENCH_ROUNDS:-3} states=${BENCH_STATES:-1000}
seconds=${BENCH_SECONDS:-4}

# test-kernel.sh puts trafgen (and its libraries) and policies/ into the image; perf brings its
# own libraries (Debian's /usr/bin/perf is the tool itself, for any kernel)
files=(--file "$root/test/vm/cases/p00-net.sh:/test/p00-net.sh" --file /usr/bin/perf:/usr/bin/perf)

if [ -z "${BENCH_NO_RUN:-}" ]; then
	"$root/scripts/test-kernel.sh" "$key" --case-dir "$root/test/vm/bench" --out "$out/vm-$key" \
		--mod dummy --mod xt_string --mod ts_bm --mod xt_connmark --timeout 3600 \
		--append "nflua_bench_packets=$packets nflua_bench_rounds=$rounds nflua_bench_states=$states nflua_bench_seconds=$seconds" \
		"${files[@]}" | tee "$out/run-$key.log"
	grep -q "NFLUA-RESULT b10-pps PASS" "$out/vm-$key/result.log" || { echo "bench: the VM run failed" >&2; exit 1; }
elif ! grep -q "NFLUA-RESULT b10-pps PASS" "$out/vm-$key/result.log"; then
	echo "bench: the last VM run did not finish: reporting what it measured" >&2
fi

tr -d '\r' <"$out/vm-$key/result.log" | sed -n 's/^  | BENCH //p' >"$out/raw-$key.txt"
tr -d '\r' <"$out/vm-$key/result.log" | sed -n 's/^  | CTRL //p' >"$out/ctrl-$key.txt"
tr -d '\r' <"$out/vm-$key/result.log" | sed -n 's/^  | guest: //p' | head -n 1 >"$out/guest-$key.txt"
tr -d '\r' <"$out/vm-$key/result.log" | sed -n 's/^  | PROFILE //p' >"$out/profile-$key.txt"

# BENCH <config> <traffic> <cpus> <round> <pps> <packets> <seconds> <busy%> -> one line per
# config and CPU count: median pps, ratio to the baseline of its traffic ("drop" has the
# size of "tls"), median busy %, the rounds. A round that handled no packet is a failed
# measurement (trafgen sent nothing: its TX ring flush failed), not a rate: shown as "x" and
# left out of the median; a configuration with no good round is left out (not measured).
awk '
	{ k = $1 " " $3; ok = $6 + 0 > 0; all[k] = all[k] " " (ok ? $5 : "x"); tr[$1] = $2
	  if (ok) { v[k] = v[k] " " $5; u[k] = u[k] " " $8 }
	  if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
	function median(s,    a, k, i, j, t) {
		k = split(s, a, " ")
		if (k == 0) return ""
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		for (i = 1; i <= n; i++) {
			split(order[i], f, " "); c = f[1]; cpus = f[2]
			t = tr[c] == "drop" ? "tls" : tr[c]
			base = median(v["none-" t " " cpus])
			m = median(v[order[i]])
			if (m == "" || base == "") continue
			printf "%s %d %d %.3f %d %s\n", c, cpus, m, m / base, median(u[order[i]]), all[order[i]]
		}
	}' "$out/raw-$key.txt" >"$out/medians-$key.txt"

{
	echo "nflua bench, kernel $key ($(date -u +%Y-%m-%dT%H:%MZ)); packets the router handled/s, median of $rounds rounds"
	printf "%-12s %4s %10s %8s %6s   %s\n" config cpus pps ratio busy% rounds
	awk '{ r = ""; for (i = 6; i <= NF; i++) r = r " " $i; printf "%-12s %4d %10d %8.3f %6d  %s\n", $1, $2, $3, $4, $5, r }' "$out/medians-$key.txt"
	awk '{ printf "%-24s %8.2f s\n", $1, $2 }' "$out/ctrl-$key.txt"
} | tee "$out/$key.txt"

[ -n "${BENCH_SMOKE:-}" ] && exit 0

# ---- bench/results.md and bench/results.png ----
res=$root/bench
mkdir -p "$res"
val() { awk -v c="$1" -v n="$2" -v f="$3" '$1 == c && $2 == n { print $f }' "$out/medians-$key.txt"; }
ctl() { awk -v w="$1" '$1 == w { print $2 }' "$out/ctrl-$key.txt"; }
# target LABEL VALUE OP LIMIT: a table row, met / not met
target() {
	local st
	if [ -z "$2" ]; then st="not measured"
	elif awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? a >= b : a < b) }'; then st=met
	else st="not met"; fi
	printf '| %s | %s | %s %s | %s |\n' "$1" "${2:--}" "$3" "$4" "$st"
}
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
{
	echo "# nflua bench results"
	echo
	echo "Made by \`make bench\` (scripts/bench.sh, test/vm/bench/b10-pps.sh); do not edit by hand."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- command: \`BENCH_SECONDS=$seconds BENCH_PACKETS=$packets BENCH_ROUNDS=$rounds BENCH_STATES=$states make bench KERNEL=$key\`"
	echo "- machine: $(nproc) host CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1) (shared with other jobs; load average $(cut -d' ' -f1-3 /proc/loadavg) when this was written: the rates move with the host's load, read the ratios, and more rounds than one)"
	echo "- kernel: Debian $key ($(sed -n 's/.*booting \([^ ]*\).*/\1/p' "$out/run-$key.log" | head -n 1)), guest $(cat "$out/guest-$key.txt")"
	echo "- QEMU: $(qemu-system-x86_64 --version | head -n 1), TCG (no KVM)"
	echo
	echo "Rates are packets the router handled per second (received on its client side, forwarded or"
	echo "dropped), median of the rounds; ratio = rate / rate with no rule, same traffic, same CPU count."
	echo "busy% is the guest's CPU use during the measurement (all CPUs). In rounds, x is a failed"
	echo "measurement (the traffic generator sent nothing), left out of the median."
	echo
	if [ -n "${BENCH_BEFORE:-}" ]; then
		echo "\"before\" is the ratio of the same bench on ${BENCH_BEFORE_LABEL:-an earlier build} (its medians: \`$(basename "$BENCH_BEFORE")\`)."
		echo
	fi
	echo "| config | CPUs | packets/s | ratio | before | busy% | rounds |"
	echo "|---|---|---|---|---|---|---|"
	awk -v before="${BENCH_BEFORE:-}" 'BEGIN { if (before != "") while ((getline l < before) > 0) { split(l, f, " "); b[f[1] " " f[2]] = f[4] } }
		{ r = $6; for (i = 7; i <= NF; i++) r = r " " $i
		  printf "| %s | %d | %d | %.3f | %s | %d | %s |\n", $1, $2, $3, $4, ($1 " " $2) in b ? b[$1 " " $2] : "-", $5, r }' \
		"$out/medians-$key.txt"
	echo
	echo "Control plane (wall time in the guest, nfluactl on the router):"
	echo
	echo "| operation | seconds |"
	echo "|---|---|"
	awk '{ printf "| %s | %.2f |\n", $1, $2 }' "$out/ctrl-$key.txt"
	echo
	echo "## Targets (issue 15)"
	echo
	echo "| target | measured | wanted | |"
	echo "|---|---|---|---|"
	target "\`-m lua\` reading \`pkt.dport\`, ratio to no rule (1 CPU)" "$(val lua-dport 1 4)" ">=" 0.93
	target "1-needle User-Agent check in Lua / one xt_string rule (1 CPU)" "$(ratio_of "$(val lua-ua1 1 3)" "$(val string1 1 3)")" ">=" 0.8
	target "1,000-entry blocklist in Lua / 1,000 xt_string rules (1 CPU)" "$(ratio_of "$(val lua-ua1000 1 3)" "$(val string1000 1 3)")" ">=" 5
	target "the talk's SNI benchmark (1,000 names, every packet dropped), ratio to no rule (1 CPU)" "$(val lua-sni 1 4)" ">=" 0.6
	target "the same behind the connmark cache, ratio to no rule (1 CPU)" "$(val lua-sni-cm 1 4)" ">=" 0.95
	target "per-CPU states on 2 vCPUs / one shared state on 2 vCPUs (lua-sni-pc / lua-sni)" "$(ratio_of "$(val lua-sni-pc 2 3)" "$(val lua-sni 2 3)")" ">=" 1.8
	target "a 1 MiB script loaded (nfluactl execute), seconds" "$(ctl load-1048576)" "<" 1
	[ -z "${BENCH_NOTE:-}" ] || { echo; echo "$BENCH_NOTE"; }
	echo
	echo "![ratios to no rule](results.png)"
	echo
	echo "Where a packet's time goes in this run (perf in the guest): [profile.md](profile.md)."
} >"$res/results.md"

# ---- bench/profile.md: the guest's perf profile, PROFILE <config> dso|sym|under|rule ... ----
# profile_table KIND: the lines of that kind as table rows, a column per profiled configuration
profile_table() {
	awk -v kind="$1" '$2 == kind { v[$4 " " $1] = $3; if (!($4 in seen)) { seen[$4] = 1; o[++n] = $4 } }
		function cell(k) { return k in v ? v[k] "%" : "-" }
		END { for (i = 1; i <= n; i++)
			printf "| %s | %s | %s | %s |\n", o[i], cell(o[i] " none-tls"), cell(o[i] " lua-dport"), cell(o[i] " lua-sni") }' \
		"$out/profile-$key.txt"
}
{
	echo "# Where a packet's time goes"
	echo
	echo "Made by \`make bench\` in the run of [results.md](results.md) ($(date -u +%Y-%m-%dT%H:%MZ), kernel $key, TCG); do not edit by hand."
	echo "\`perf record -C 0 -g -e cpu-clock -F 1000\` in the guest for $seconds s while one trafgen pinned to"
	echo "CPU 0 sends the configuration's traffic (test/vm/bench/b10-pps.sh): the sender, the router's softirq"
	echo "work and the rules share that CPU, as in the 1-CPU rows. Percentages are of CPU 0's samples. TCG"
	echo "has no hardware counters: these are time samples of emulated code, which weighs instructions"
	echo "differently from a real CPU (helpers for atomics, TLB and interrupt state cost more)."
	echo
	echo "## The rule's share of the CPU"
	echo
	echo "A rule that takes a share s of the CPU leaves the rest of a packet's work 1 - s of it: the rate"
	echo "is about 1 - s of the baseline's. Both come from the same seconds, so this reading does not move"
	echo "with the host's load as the rates do (they vary up to 1.7x between rounds)."
	echo
	echo "| config | CPU under xt_lua_mt | the rate ratio it implies |"
	echo "|---|---|---|"
	awk '$2 == "under" && $4 == "xt_lua_mt" { printf "| %s | %s%% | %.2f |\n", $1, $3, 1 - $3 / 100 }' "$out/profile-$key.txt"
	echo
	echo "## Time in a function and what it called"
	echo
	echo "| function | none-tls | lua-dport | lua-sni |"
	echo "|---|---|---|---|"
	profile_table under
	echo
	echo "## Self time by module (0.5% and up)"
	echo
	echo "perf finds the module's functions by the kernel's symbol table: nflua and Lua are counted in"
	echo "[kernel.kallsyms]. The sender's own user-space work is the trafgen row."
	echo
	echo "| module | none-tls | lua-dport | lua-sni |"
	echo "|---|---|---|---|"
	profile_table dso
	for c in lua-dport lua-sni; do
		echo
		echo "## $c: what the rule's time is made of"
		echo
		echo "Samples with xt_lua_mt in their call chain, by the function they were in (0.25% of the CPU and up)."
		echo
		echo "| % of the CPU | function |"
		echo "|---|---|"
		awk -v c="$c" '$1 == c && $2 == "rule" { printf "| %s | %s |\n", $3, $4 }' "$out/profile-$key.txt"
	done
	for c in none-tls lua-dport lua-sni; do
		echo
		echo "## $c: self time by function (the first 25, 0.5% and up)"
		echo
		echo "| % | function |"
		echo "|---|---|"
		awk -v c="$c" '$1 == c && $2 == "sym" && ++n <= 25 { printf "| %s | %s |\n", $3, $5 }' "$out/profile-$key.txt"
	done
} >"$res/profile.md"

# the chart: ratio per configuration, one bar per CPU count
awk '{ r[$1 " " $2] = $4; if (!($1 in s)) { s[$1] = 1; o[++n] = $1 } }
	END { for (i = 1; i <= n; i++) printf "%s %s %s\n", o[i], (o[i] " 1") in r ? r[o[i] " 1"] : "NaN", (o[i] " 2") in r ? r[o[i] " 2"] : "NaN" }' \
	"$out/medians-$key.txt" >"$out/chart-$key.dat"
gnuplot <<EOF
set terminal pngcairo size 1000,520 font "sans,10"
set output "$res/results.png"
set title "nflua bench, kernel $key under TCG: rate as a ratio to no rule (median of $rounds rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set ylabel "ratio to no rule"
set grid ytics
set xtics rotate by -30
set key top right
plot "$out/chart-$key.dat" using 2:xtic(1) title "1 CPU", "" using 3 title "2 CPUs"
EOF
echo "bench: $res/results.md, $res/results.png, $res/profile.md"
