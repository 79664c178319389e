#!/bin/bash
# selftest.sh [KEY]: prove that test/vm/run.sh can fail. Boots kernel KEY (default 6.1) with
# throw-away cases from a temp dir and checks run.sh's verdict for each scenario:
#   pass      a passing case                      -> exit 0, "1 passed, 0 failed"
#   fail      a case that exits 1                 -> exit != 0, FAIL line with the reason
#   warning   a passing case that writes a WARNING into the kernel log
#                                                 -> exit != 0, FAIL kernel-log
#   timeout   a case over its `# timeout:` + a passing case after it
#                                                 -> the first fails (timeout), the second passes
#   hang      a case that outlives run.sh --timeout -> VM killed, case reported as hung
#   panic     echo c > /proc/sysrq-trigger        -> exit != 0, case without result, kernel-log
# On the debug kernel (KEY 6.1-debug, scripts/debug-kernel.config), whose checkers each get a
# scenario with a fixture module built from the same kernel source (never part of the product):
#   kasan     modprobe kasan_test_module (use-after-free, out-of-bounds copies)
#                                                 -> the case passes, FAIL kernel-log with KASAN
#   kmemleak  modprobe + rmmod kmemleak-test (leaks on purpose), found by guest/init's final scan
#                                                 -> the case passes, FAIL kernel-log with the leak
#   lockup    test_lockup: 90 s with preemption off -> soft lockup, panic, case without result
#             (an RCU stall report, at 21 s, touches the soft-lockup watchdog: when it comes
#             first, the soft lockup is reported 20 s after it; 40 s was not always enough)
# selftest.sh KEY SCENARIO... runs only those scenarios.
# Last line: "N passed, M failed" over the scenarios (passed = judged as expected).
set -eu
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KEY=${1:-6.1}
[ $# = 0 ] || shift
ONLY=" $* "
T=$(mktemp -d /tmp/nflua-vm-selftest.XXXXXX)
trap 'rm -rf "$T"' EXIT
OUTBASE=$ROOT/build/vm/selftest-$KEY
bad=0 good=0

mkcase() { # SCENARIO NAME BODY
    mkdir -p "$T/$1"
    printf '#!/bin/sh\n. /test/lib.sh\n%s\n' "$3" >"$T/$1/$2.sh"
}
# check SCENARIO WANT_RC(0|nonzero) REGEX... -- [run.sh options]
check() {
    local sc=$1 want=$2; shift 2
    local res=() rc=0 out
    [ "$ONLY" = "  " ] || case $ONLY in *" $sc "*) ;; *) return 0 ;; esac
    while [ "$1" != -- ]; do res+=("$1"); shift; done
    shift
    out=$("$HERE/run.sh" "$KEY" --case-dir "$T/$sc" --out "$OUTBASE/$sc" "$@" 2>&1) || rc=$?
    local ok=1 why=
    if [ "$want" = 0 ] && [ $rc != 0 ]; then ok=0 why="exit $rc, wanted 0"; fi
    if [ "$want" != 0 ] && [ $rc = 0 ]; then ok=0 why="exit 0, wanted a failure"; fi
    printf '%s\n' "$out" | tail -n1 | grep -qE '^[0-9]+ passed, [0-9]+ failed$' ||
        { ok=0 why="$why; last line is not 'N passed, M failed'"; }
    for r in "${res[@]}"; do
        printf '%s\n' "$out" | grep -qE -- "$r" || { ok=0 why="$why; no line matching /$r/"; }
    done
    if [ $ok = 1 ]; then
        echo "selftest: ok   $sc ($(printf '%s\n' "$out" | tail -n1))"
        good=$((good + 1))
    else
        echo "selftest: FAIL $sc:${why}"
        printf '%s\n' "$out" | sed 's/^/    /'
        bad=$((bad + 1))
    fi
}

mkcase pass 10-pass 'run true; assert_eq "$(echo x)" x; echo fine'
mkcase fail 10-fail 'echo some output; fail "deliberate failure"'
mkcase warning 10-warn 'echo "<4>WARNING: CPU: 0 PID: 1 at nflua/selftest.c:1 selftest+0x0/0x0" >/dev/kmsg'
mkcase timeout 10-slow '# timeout: 3
sleep 100'
mkcase timeout 20-after 'echo still running'
mkcase hang 10-hang '# timeout: 600
sleep 600'
mkcase panic 10-panic 'echo c >/proc/sysrq-trigger; sleep 5'

check pass 0 '^ok +10-pass' '^1 passed, 0 failed$' --
check fail nonzero '^FAIL 10-fail: exit 1: deliberate failure$' '^0 passed, 1 failed$' 'some output' --
check warning nonzero '^ok +10-warn' '^FAIL kernel-log' 'WARNING: CPU: 0 PID: 1 at nflua/selftest' '^1 passed, 1 failed$' --
check timeout nonzero '^FAIL 10-slow: timeout after 3s$' '^ok +20-after' '^1 passed, 1 failed$' --
check hang nonzero '^FAIL 10-hang: no result: the VM hung' "killed after 30s while running case '10-hang'" '^0 passed, 1 failed$' -- --timeout 30
check panic nonzero '^FAIL 10-panic: no result' '^FAIL kernel-log' 'Kernel panic' '^0 passed, 2 failed$' --

# The debug kernel's checkers (its config has the fixtures; fetch-kernel.sh builds it if needed).
"$ROOT/scripts/fetch-kernel.sh" "$KEY" >/dev/null
if grep -qx 'CONFIG_KASAN_MODULE_TEST=m' "$ROOT/build/kernel/$KEY/config" 2>/dev/null; then
    # the module's init runs the bad accesses and then refuses to load (-EAGAIN)
    mkcase kasan 10-kasan 'modprobe kasan_test_module; echo "modprobe: $?"'
    mkcase kmemleak 10-leak 'run modprobe kmemleak-test; run rmmod kmemleak-test'
    mkcase lockup 10-lockup '# timeout: 300
modprobe test_lockup time_secs=90 disable_preempt=1; echo "survived a soft lockup"'
    check kasan nonzero '^ok +10-kasan' '^FAIL kernel-log' 'BUG: KASAN: ' '^1 passed, 1 failed$' -- --mod kasan_test_module
    check kmemleak nonzero '^ok +10-leak' '^FAIL kernel-log' 'unreferenced object' '^1 passed, 1 failed$' -- --mod kmemleak-test
    check lockup nonzero '^FAIL 10-lockup: no result' 'soft lockup' 'Kernel panic' '^0 passed, 2 failed$' -- --mod test_lockup
fi

if [ $bad = 0 ]; then echo "selftest: all $good scenarios judged as expected"; else echo "selftest: $bad scenario(s) misjudged"; fi
echo "$good passed, $bad failed"
[ $bad = 0 ]
