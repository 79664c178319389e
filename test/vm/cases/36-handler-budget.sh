#!/bin/sh
# Recursive message handlers are charged at the budget's rate. An error raised inside a message
# handler calls the handler again (Lua's luaG_errormsg), so `xpcall(error, h)` with `h` raising
# recurses until the C stack guard stops it ("C stack overflow", then "error in error
# handling"); the interpreter runs only a few instructions per level, the rest is C. Each
# variant runs with a budget of 2 x 10^6 (small enough that an undercharged one still ends
# before the 5 s wall-clock backstop) until the budget stops it, and its time is compared with
# a plain loop's in the same run (the ratio depends less on the machine's load than the times
# do): a variant that takes much longer than the loop is undercharged. Also counts how many handler calls one `xpcall` makes and what they cost.
# The numbers go to docs/kernel-lua.md ("Bounded time").
# timeout: 300
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh

T=/test/tools/nflua-timed
[ -x $T ] || fail "$T is missing"
# the most a variant may take per charged instruction, as a multiple of the plain loop's time
RATIO_MAX=${NFLUA_HANDLER_RATIO:-3}
BUDGET=2000000
# On a slower kernel (nflua.timescale: the debug kernel) the ratios are printed, not asserted:
# the rates are set for stock kernels, and there KASAN, kmemleak and lockdep make every
# allocation cost up to milliseconds under TCG while the VM loop runs only 2 times slower, so
# anything that allocates (a handler level's CallInfo, a message) measures 10 to 50 times the
# loop. A smaller budget keeps each call within the time limit there.
DEBUG=''
case " $(cat /proc/cmdline) " in
*" nflua.timescale=1 "*) ;;
*" nflua.timescale="*) DEBUG=1 BUDGET=200000 ;;
esac

run nfluactl create hb --budget $BUDGET

cat >/tmp/variants <<'LUA'
nil|local function h(e) error(e) end while true do xpcall(error, h) end
string|local function h(e) error(e) end while true do xpcall(error, h, "x") end
table|local function h(e) error({e}) end while true do xpcall(error, h, {}) end
tostring|local mt = {} mt.__tostring = function(o) error(setmetatable({}, mt)) end while true do xpcall(error, tostring, setmetatable({}, mt)) end
xpcall-in-handler|local function h(e) return xpcall(error, h, e) end while true do xpcall(error, h) end
pcall-in-handler|local function h(e) pcall(error, e) error(e) end while true do xpcall(error, h) end
chain|local function h(e) error(e, 0) end local function f(d) if d == 0 then error("x", 0) end return xpcall(f, h, d - 1) end while true do f(20) end
bounded|local k = 0 local function h(e) k = k + 1 if k % 24 ~= 0 then error(e) end return e end while true do xpcall(error, h) end
bounded-string|local k = 0 local function h(e) k = k + 1 if k % 24 ~= 0 then error(e) end return e end while true do xpcall(error, h, "x") end
LUA

# what one xpcall of the 'nil' variant does: handler calls until "error in error handling"
run nfluactl execute hb -e 'local n = 0 local function h(e) n = n + 1 error(e) end
    local ok, m = xpcall(error, h) return n, m'
echo "    one xpcall(error, h), h raising: $OUT"
case $OUT in *"error in error handling"*) ;; *) fail "the recursion does not end in 'error in error handling': $OUT" ;; esac

# timed CODE: the call's time in ms; it must end with the budget error, by the count
timed() {
    line=$($T hb "$1") || fail "$name: no reply"
    err=${line%% *} ms=${line#* }
    ms=${ms%% *}
    assert_eq "$err" 62 "$name: errno ETIME (budget): $line"
    case $line in
    *"instruction budget exhausted ($BUDGET instructions)"*) ;;
    *) fail "$name: not stopped by the instruction count (the wall-clock backstop or another error): $line" ;;
    esac
    [ "$ms" -gt 0 ] || ms=1
}

# each variant beside a plain loop, twice, alternating; the best time of each: a busy host
# stretches single runs. All are measured before a failure is reported.
over=''
while IFS='|' read -r name code; do
    best='' lbest=''
    for _ in 1 2; do
        timed 'while true do end'
        [ -n "$lbest" ] && [ "$lbest" -le "$ms" ] || lbest=$ms
        timed "$code"
        [ -n "$best" ] && [ "$best" -le "$ms" ] || best=$ms
    done
    ratio=$(awk -v a="$best" -v b="$lbest" 'BEGIN { printf "%.2f", a / b }')
    echo "    $name: $best ms, the loop $lbest ms: $ratio x"
    [ -n "$DEBUG" ] ||
        awk -v r="$ratio" -v m="$RATIO_MAX" 'BEGIN { exit !(r <= m) }' || over="$over $name ($ratio x)"
done </tmp/variants
[ -z "$DEBUG" ] || echo "    (a slower kernel: ratios not asserted)"
[ -z "$over" ] || fail "undercharged (over $RATIO_MAX times the plain loop's time per charged instruction):$over"

run nfluactl execute hb -e 'return 6 * 7'
assert_eq "$OUT" 42 "the state works after the variants"

step "the wall-clock backstop is the module's call_max_ms (clamped to 100..15000 ms)"
P=/sys/module/nflua/parameters/call_max_ms
[ -f $P ] || fail "no call_max_ms parameter"
old=$(cat $P)
run nfluactl set hb --budget 10000000
for v in 100 1; do
    echo $v >$P
    line=$($T hb 'while true do end')
    echo "$old" >$P
    echo "    call_max_ms=$v: $line"
    case $line in
    62\ *"time limit of 100 ms"*) ;;
    *) fail "with call_max_ms=$v a loop of 10^7 instructions did not end at 100 ms: $line" ;;
    esac
done
run nfluactl destroy hb
