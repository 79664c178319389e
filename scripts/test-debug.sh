#!/bin/bash
# test-debug.sh [run.sh options]: the VM suite on the debug kernel (KEY 6.1-debug: Debian's
# linux-source-6.1 built with KASAN, lockdep, kmemleak, soft-lockup panic, hung-task and RCU-stall
# detection, DEBUG_LIST, debug objects, UBSAN; scripts/debug-kernel.config), then the harness
# self-test's scenarios that prove run.sh fails on a KASAN report, a leak and a soft lockup.
# The kernel is built once per machine (scripts/build-kernel.sh, cached in $NFLUA_CACHE) and
# nflua.ko against it. `make test-debug`. Last line: "N passed, M failed" over both.
#   NFLUA_DEBUG_CASES=a,b   run only these cases (scripts/test-all.sh's subset), else all
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
key=6.1-debug
mkdir -p "$root/build"
passed=0 failed=0
tally() {	# $1 - a run's log; a log without a summary line counts as a failure
	local line p f
	line=$(grep -sE '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	if [ -z "$line" ]; then p=0 f=1; else p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}; fi
	passed=$((passed + p)) failed=$((failed + f))
}
t0=$(date +%s)
"$root/scripts/fetch-kernel.sh" "$key" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
t1=$(date +%s)
echo "=== debug kernel ready in $((t1 - t0)) s"
log=$root/build/test-$key.log
# KASAN and lockdep slow the guest down several times: a longer limit for the whole VM
"$root/scripts/test-kernel.sh" "$key" --timeout 7200 ${NFLUA_DEBUG_CASES:+--cases "$NFLUA_DEBUG_CASES"} "$@" 2>&1 |
	tee "$log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "$log"
t2=$(date +%s)
echo "=== suite on $key: $((t2 - t1)) s"
slog=$root/build/test-selftest-$key.log
"$root/test/vm/selftest.sh" "$key" kasan kmemleak lockup 2>&1 | tee "$slog" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
tally "$slog"
echo "=== self-test on $key: $(($(date +%s) - t2)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
