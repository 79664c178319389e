#!/bin/bash
# bench.sh [KEY]: forwarding rate through FORWARD rules in the QEMU router (test/vm/bench), each
# configuration as a ratio to the no-rule baseline measured in the same VM run. Absolute numbers
# depend on the machine (TCG here); the ratios are what to compare. Writes build/bench/KEY.txt.
# Environment: BENCH_PACKETS (sent per measurement, default 60000), BENCH_ROUNDS (default 3).
set -eu -o pipefail
key=${1:-6.1}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/bench
mkdir -p "$out"

# test-kernel.sh puts trafgen (and its libraries) and policies/ into the image
files=(--file "$root/test/vm/cases/p00-net.sh:/test/p00-net.sh")

"$root/scripts/test-kernel.sh" "$key" --case-dir "$root/test/vm/bench" --out "$out/vm-$key" \
	--mod dummy --mod xt_string --mod ts_bm --mod xt_connmark --timeout 1200 \
	--append "nflua_bench_packets=${BENCH_PACKETS:-60000} nflua_bench_rounds=${BENCH_ROUNDS:-3}" \
	"${files[@]}" | tee "$out/run-$key.log"

# BENCH <config> <round> <pps> ... -> median pps per config, ratio to "none"
tr -d '\r' <"$out/vm-$key/result.log" | sed -n 's/^  | BENCH //p' >"$out/raw-$key.txt"
{
	echo "nflua bench, kernel $key ($(date -u +%Y-%m-%dT%H:%MZ)); forwarded TLS ClientHello segments/s, median of rounds"
	awk '
		{ v[$1] = v[$1] " " $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
		function median(s,    a, k, i, j, t) {
			k = split(s, a, " ")
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
		END {
			base = median(v["none"])
			printf "%-12s %10s %8s   %s\n", "config", "pps", "ratio", "rounds"
			for (i = 1; i <= n; i++) {
				m = median(v[order[i]])
				printf "%-12s %10d %8.3f  %s\n", order[i], m, base ? m / base : 0, v[order[i]]
			}
		}' "$out/raw-$key.txt"
} | tee "$out/$key.txt"
