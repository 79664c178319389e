#!/bin/sh
# The instruction budget stops endless loops fast, cannot be dodged with pcall, xpcall or
# coroutines, and can be set per state.
# timeout: 120
. /test/lib.sh

# works STATE: the state still runs code
works() {
    run nfluactl execute "$1" -e 'return 6 * 7'
    assert_eq "$OUT" 42 "state $1 works after the error"
}

# ms: guest uptime in milliseconds (10 ms resolution)
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# time bounds scale with a slower kernel (nflua.timescale: the debug kernel, whose guest also
# starts nfluactl's processes several times slower)
SCALE=$(timescale)

# raw_execute STATE CODE: one execute request on a fresh descriptor, bypassing nfluactl, so
# the time measured is the kernel's; sets $HDR and $BODY (the message)
raw_execute() {
    _n=$(printf %s "$1" | wc -c)
    _c=$(printf %s "$2" | wc -c)
    exec 5<>/dev/nflua || fail "cannot open /dev/nflua"
    printf 'execute %d %d %d\n%s%s%s' "$_n" "$_n" "$_c" "$1" "$1" "$2" >&5
    IFS= read -r HDR <&5 || fail "no reply to execute"
    # shellcheck disable=SC2086
    set -- $HDR
    BODY=$(head -c "${2:-0}" <&5)
    exec 5<&-
}

run nfluactl create web

step "while true do end: stopped by the budget in under a second"
raw_execute web 'while true do end'
assert_eq "${HDR%% *}" 62 "errno ETIME for a budget hit (reply '$HDR' '$BODY')"
assert_contains "$BODY" "budget" "message names the budget"
# the kernel's time, measured around the request alone (a shell's forks are slow under TCG)
line=$(/test/tools/nflua-timed web 'while true do end') || fail "nflua-timed: $line"
t=${line#* }
t=${t%% *}
[ "$t" -lt $((1000 * SCALE)) ] || fail "budget stop took $t ms"
echo "budget hit after $t ms"
expect_rc 1 nfluactl execute web -e 'while true do end'
assert_contains "$ERR" "nfluactl: execute web: " "error prefix"
assert_contains "$ERR" "budget" "nfluactl shows the budget message"
works web
run nfluactl stats web
hits=$(printf '%s\n' "$OUT" | sed -n 's/^budget_hits=//p')
[ "${hits:-0}" -ge 2 ] || fail "budget_hits=$hits after two budget hits"

step "per-state budget: create --budget 5000"
run nfluactl create small --budget 5000
expect_rc 1 nfluactl execute small -e 'local x = 0 for i = 1, 10000 do x = x + i end return x'
assert_contains "$ERR" "budget" "10000 iterations exceed a budget of 5000"
run nfluactl execute small -e 'local x = 0 for i = 1, 100 do x = x + i end return x'
assert_eq "$OUT" 5050 "100 iterations fit in a budget of 5000"

step "set --budget changes it"
run nfluactl set small --budget 1000000
run nfluactl list
assert_contains "$OUT" "name=small maxalloc=1048576 mem=" "small listed"
assert_contains "$(printf '%s\n' "$OUT" | grep '^name=small ')" " budget=1000000 " "list shows the new budget"
run nfluactl execute small -e 'local x = 0 for i = 1, 10000 do x = x + i end return x'
assert_eq "$OUT" 50005000 "10000 iterations fit after set --budget 1000000"
run nfluactl set small --budget 5000
expect_rc 1 nfluactl execute small -e 'local x = 0 for i = 1, 10000 do x = x + i end return x'
assert_contains "$ERR" "budget" "budget lowered again"
expect_rc 1 nfluactl set small --budget 999
expect_rc 1 nfluactl create tiny --budget 999
expect_rc 1 nfluactl create huge --budget 10000001
expect_rc 1 nfluactl set small --budget 10000001

step "the budget cannot be dodged"
# each runs under the default budget (100000) and must end with the budget error, quickly
for code in \
    'while true do pcall(function() while true do end end) end' \
    'while true do xpcall(function() while true do end end, function(e) return e end) end' \
    'local co = coroutine.wrap(function() while true do end end) co()' \
    'while true do coroutine.resume(coroutine.create(function() while true do end end)) end' \
    'while true do pcall(coroutine.wrap(function() while true do end end)) end' \
    'local t = setmetatable({}, {__index = function() while true do end end}) while true do pcall(function() return t.x end) end' \
    'while true do pcall(string.gsub, "aaaa", "a", function() while true do end end) end' \
    'while true do pcall(table.sort, {3, 2, 1}, function(a, b) while true do end end) end' \
    'while true do xpcall(function() error("x") end, function(e) while true do end end) end' \
    'xpcall(function() while true do end end, function(e) while true do end end)'
do
    step "dodge: $code"
    t0=$(ms)
    expect_rc 1 nfluactl execute web -e "$code"
    t1=$(ms)
    assert_contains "$ERR" "budget" "budget error for: $code"
    [ $((t1 - t0)) -lt $((5000 * SCALE)) ] || fail "took $((t1 - t0)) ms: $code"
    works web
done

for s in web small; do run nfluactl destroy "$s"; done
