#!/bin/bash
# test-all.sh KEY...: every test suite: the CLI's (mocha, real dropbear, SEA binaries), the
# OpenWrt feed on OpenWrt's buildroot (scripts/feed-test.sh) and its service on OpenWrt's procd
# in QEMU (scripts/test-openwrt-service.sh), the VM suite on each test kernel KEY, then the
# harness's own self-test. Runs everything even after a failure; the last line sums them all up.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build"
passed=0 failed=0 bad=()
# the debug kernel's turn: cases of the state, budget, memory, recursion, control-device,
# receive wait queue, reply teardown and packet paths (90-modload: 50 loads take ~10 min on the stock kernel under TCG; too long)
DEBUG_SUBSET=00-harness,10-lifecycle,20-errors,30-budget,40-memory,50-recursion,70-control-input,72-receive,p35-tcpreply,p39-reply-teardown,p70-broken-filters
tally() {	# $1 - label, $2 - a run's log; a log without a summary line counts as a failure
	local line p f
	line=$(grep -sE '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		p=0 f=1
	else
		p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	fi
	passed=$((passed + p)) failed=$((failed + f))
	[ "$f" = 0 ] || bad+=("$1")
}
# COMPAT_CASES: what the other test kernels (5.10, 6.12) run on every run: the cases that meet
# the kernel's interfaces (module, xtables, netfilter hooks, skb, netns, the control device) in
# the least time. The rest of their suite comes in turn, in two halves (below): every case still
# runs on every kernel every fourth run, and a fresh CI machine stays within its 70 minutes
# (README.md, Testing).
# (p07-xt-table, the extensions' 360 parse checks, is userspace work that takes two minutes
# under TCG: it is left to the halves; p05-xtables meets each kernel.)
COMPAT_CASES=00-harness,10-lifecycle,12-rename,15-nfluactl,20-errors,30-budget,40-memory,60-kernel-lua,80-permissions,85-xt-nodev,p00-net,p05-xtables,p10-http-ua,p20-tls-sni,p30-verdicts,p35-tcpreply,p36-reply-traversal,p45-families,p50-save-restore
# HALF_1: the first half of the rest, chosen so that both halves take about as long (the case
# times of build/test-6.1.log, 2026-12-02: 240 s and 237 s on 6.1); the second half is every
# other case, so a new case is never left out of the rotation.
HALF_1=32-budget-coroutines,35-hostile,36-handler-budget,50-recursion,70-control-input,76-lifecycle-race,p06-function-cache,p38-nested-entry,p39-reply-teardown,p46-percpu,p60-hot-replace,p70-broken-filters,p80-connmark-cache,p82-ct-template,p95-policies
# One turn per run, in rotation by the commit count: a turn names the test kernel that runs,
# besides the first one (KEY), one half of the rest of its suite ("6.12/1"; "6.12" alone: the
# whole suite), and a router arch (arm64, armhf, mipsel) that runs the kernel-core cases and
# two packet-path ones (a whole arch suite takes 15-20 minutes of TCG time, `make test-arch
# ARCH=...` runs it all), joined by "+". Or the debug kernel (KASAN, lockdep, kmemleak, ...):
# its cold build and its slower guest do not fit every run, so its turn runs a subset of the
# cases on it in place of the stock 6.1 run (the same kernel series) and of an arch (`make
# test-debug` runs all of it). NFLUA_CI_ARCH picks the arch (arm64, armhf, mipsel, debug;
# "none" skips), NFLUA_CI_WHOLE the kernels that run whole ("all": every one).
# ROTATION is the default turn order: twelve turns pair each half of each kernel with each
# arch once. The debug turn is not in it (its cold build and slow guest do not fit a fresh CI
# machine's 70 minutes with a margin: README.md). NFLUA_CI_PLAN=1 prints the run's plan (the
# turn, the cases per kernel) and exits.
ROTATION=${NFLUA_CI_ROTATION:-5.10/1+arm64 6.12/1+armhf 5.10/2+mipsel 6.12/2+arm64 5.10/1+armhf 6.12/1+mipsel 5.10/2+arm64 6.12/2+armhf 5.10/1+mipsel 6.12/1+arm64 5.10/2+armhf 6.12/2+mipsel}
keys=("$@")
n=$(git -C "$root" rev-list --count HEAD 2>/dev/null || echo 0)
# shellcheck disable=SC2086 # a list of turns
set -- $ROTATION
shift $((n % $#))
turn_arch=none turn_whole='' turn_half=''
for w in ${1//+/ }; do
	case $w in
	arm64|armhf|mipsel|debug|none) turn_arch=$w ;;
	*/1|*/2) turn_half="$turn_half $w" ;;
	*) turn_whole="$turn_whole $w" ;;
	esac
done
arch=${NFLUA_CI_ARCH:-$turn_arch}
whole=${NFLUA_CI_WHOLE:-$turn_whole}
[ -n "${NFLUA_CI_WHOLE:-}" ] && turn_half=
# the rest of the suite (every case not in COMPAT_CASES), half 1 or 2
rest_half() {	# $1 - 1 or 2; prints a comma-separated list
	local f c out=
	for f in "$root"/test/vm/cases/*.sh; do
		c=$(basename "$f" .sh)
		case ",$COMPAT_CASES," in *",$c,"*) continue ;; esac
		case ",$HALF_1," in
		*",$c,"*) [ "$1" = 1 ] || continue ;;
		*) [ "$1" = 2 ] || continue ;;
		esac
		out="$out,$c"
	done
	echo "${out#,}"
}
# the cases kernel $1 runs in this turn: "" for the whole suite
cases_for() {
	local h
	case " all ${keys[0]:-} $whole " in *" $1 "*) return ;; esac
	[ "$whole" = all ] && return
	for h in $turn_half; do
		[ "${h%/*}" = "$1" ] && { echo "$COMPAT_CASES,$(rest_half "${h#*/}")"; return; }
	done
	echo "$COMPAT_CASES"
}
echo "=== this run's turn: whole suite on ${keys[0]:-}${whole:+ and ${whole# }}${turn_half:+, half of the rest on$turn_half}, arch $arch"
if [ -n "${NFLUA_CI_PLAN:-}" ]; then
	for key in ${keys[@]+"${keys[@]}"}; do
		sel=$(cases_for "$key")
		echo "kernel $key: ${sel:-whole suite}"
	done
	exit 0
fi
echo "=== nfluactl (TypeScript)"
rm -f "$root/build/test-cli.log"
"$root/scripts/test-cli.sh" 2>&1 | tee "$root/build/test-cli.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "nfluactl" "$root/build/test-cli.log"
echo "=== OpenWrt feed"
start=$(date +%s)
rm -f "$root/build/test-feed.log"
"$root/scripts/feed-test.sh" 2>&1 | tee "$root/build/test-feed.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "OpenWrt feed" "$root/build/test-feed.log"
echo "=== OpenWrt feed: $(($(date +%s) - start)) s"
echo "=== OpenWrt service (/etc/init.d/nflua on procd, kernel 6.1)"
start=$(date +%s)
rm -f "$root/build/test-openwrt-service.log"
"$root/scripts/test-openwrt-service.sh" 6.1 2>&1 | tee "$root/build/test-openwrt-service.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "OpenWrt service" "$root/build/test-openwrt-service.log"
echo "=== OpenWrt service: $(($(date +%s) - start)) s"
for key in ${keys[@]+"${keys[@]}"}; do
	if [ "$arch" = debug ] && [ "$key" = 6.1 ]; then
		echo "=== kernel 6.1: this run's turn is the debug kernel (6.1-debug), below"
		continue
	fi
	sel=() what="whole suite"
	list=$(cases_for "$key")
	if [ -n "$list" ]; then
		sel=(--cases "$list")
		what="COMPAT_CASES"
		[ "$list" = "$COMPAT_CASES" ] || what="COMPAT_CASES and half of the rest"
	fi
	echo "=== kernel $key ($what)"
	start=$(date +%s)
	rm -f "$root/build/test-$key.log"
	"$root/scripts/test-kernel.sh" "$key" ${sel[@]+"${sel[@]}"} 2>&1 | tee "$root/build/test-$key.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "kernel $key" "$root/build/test-$key.log"
	echo "=== kernel $key: $(($(date +%s) - start)) s"
done
# the bench, tiny (a few hundred packets, one round): it must keep working; numbers are not checked
echo "=== bench smoke (kernel 6.1)"
start=$(date +%s)
rm -f "$root/build/test-bench.log"
BENCH_SMOKE=1 "$root/scripts/bench.sh" 6.1 >"$root/build/test-bench.log" 2>&1 ||
	echo "0 passed, 1 failed" >>"$root/build/test-bench.log"	# also when the VM run passed
tail -n 25 "$root/build/test-bench.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "bench smoke" "$root/build/test-bench.log"
echo "=== bench smoke: $(($(date +%s) - start)) s"
if [ "$arch" = debug ]; then
	echo "=== debug kernel (this run's turn)"
	start=$(date +%s)
	rm -f "$root/build/test-debug.log"
	NFLUA_DEBUG_CASES=${NFLUA_DEBUG_CASES:-$DEBUG_SUBSET} "$root/scripts/test-debug.sh" 2>&1 |
		tee "$root/build/test-debug.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "debug kernel" "$root/build/test-debug.log"
	echo "=== debug kernel: $(($(date +%s) - start)) s"
elif [ "$arch" != none ]; then
	echo "=== router arch $arch (this run's turn)"
	start=$(date +%s)
	rm -f "$root/build/test-arch-$arch.log"
	"$root/scripts/test-arch.sh" "$arch" \
		--cases 00-harness,10-lifecycle,20-errors,30-budget,40-memory,50-recursion,60-kernel-lua,65-int64,70-control-input,p00-net,p10-http-ua,p20-tls-sni \
		2>&1 | tee "$root/build/test-arch-$arch.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "arch $arch" "$root/build/test-arch-$arch.log"
	echo "=== router arch $arch: $(($(date +%s) - start)) s"
	# the service on OpenWrt's runtime cross-built for the arch (the apply transaction too by
	# hand: scripts/test-openwrt-service.sh $arch-6.1, 6 more minutes)
	echo "=== OpenWrt service on $arch (o10-service)"
	start=$(date +%s)
	rm -f "$root/build/test-openwrt-service-$arch.log"
	"$root/scripts/test-openwrt-service.sh" "$arch-6.1" --cases o10-service 2>&1 |
		tee "$root/build/test-openwrt-service-$arch.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
	tally "OpenWrt service $arch" "$root/build/test-openwrt-service-$arch.log"
	echo "=== OpenWrt service on $arch: $(($(date +%s) - start)) s"
fi
echo "=== harness self-test"
rm -f "$root/build/test-selftest.log"
"$root/test/vm/selftest.sh" 2>&1 | tee "$root/build/test-selftest.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "harness self-test" "$root/build/test-selftest.log"
[ ${#bad[@]} -eq 0 ] || echo "failed: ${bad[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
