#!/bin/sh
# One budget per call across all of a state's threads (review issue 12, item 1). Lua keeps an
# instruction count per thread: coroutines used to start with a fresh one, so nested coroutines
# multiplied the budget without limit (the review's one-liner held a CPU until a soft lockup,
# from execute and from a packet function), and work spread over many short-lived coroutines
# was never charged. Now the count moves with the running thread, and once the budget is spent
# every thread fails at its next instruction.
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

T=/test/tools/nflua-timed
# budget STATE CODE: CODE must end with the budget error (ETIME); prints its time
budget() {
    line=$($T "$1" "$2") || fail "no reply for: $2"
    echo "    ${line#* }" | cut -c1-120
    assert_eq "${line%% *}" 62 "budget error (ETIME) for: $2 (reply: $line)"
    assert_contains "$line" "instruction budget exhausted" "budget message for: $2"
    run nfluactl execute "$1" -e 'return 6 * 7'
    assert_eq "$OUT" 42 "state $1 works after: $2"
}

run nfluactl create co

step "the review's nested coroutines end with the budget error"
budget co 'local c,r=coroutine.create,coroutine.resume local function f(d) while true do if d>0 then r(c(f),d-1) end end end f(6)'
budget co 'local w=coroutine.wrap local function f(d) while true do if d>0 then pcall(w(f),d-1) end end end f(6)'

step "instructions of short-lived coroutines count: 300 x ~900 instructions exceed 100000"
# each coroutine runs fewer instructions than one count-hook step (1000 by default): before,
# none of them was ever charged and the loop finished
budget co 'for i = 1, 300 do coroutine.wrap(function() for j = 1, 900 do end end)() end return "finished"'
budget co 'local n = 0 for i = 1, 400 do coroutine.resume(coroutine.create(function() for j = 1, 200 do n = n + 1 end end)) end return n'
step "the same work within the budget still runs"
run nfluactl execute co -e 'for i = 1, 20 do coroutine.wrap(function() for j = 1, 900 do end end)() end return "finished"'
assert_eq "$OUT" finished "20 short coroutines fit in the budget"

step "after the budget is spent, a coroutine resumed or created later fails at once"
budget co 'local parked = coroutine.create(function() while true do coroutine.yield() end end)
coroutine.resume(parked)
pcall(function() while true do end end)
-- spent: neither the parked coroutine nor a new one may run a loop
while true do coroutine.resume(parked) coroutine.resume(coroutine.create(function() while true do end end)) end'
budget co 'local co = coroutine.wrap(function() for i = 1, 900 do end pcall(function() while true do end end) while true do end end) co()'

step "__close handlers run by coroutine.close count"
budget co 'for i = 1, 400 do local c = coroutine.create(function() local x <close> = setmetatable({}, {__close = function() for j = 1, 300 do end end}) coroutine.yield() end) coroutine.resume(c) coroutine.close(c) end'

run nfluactl stats co
hits=$(printf '%s\n' "$OUT" | sed -n 's/^budget_hits=//p')
assert_eq "$hits" 7 "budget_hits counts each call once"

step "from a packet function (softirq): nested coroutines end with the budget error per packet"
net_pair 6 32
run nfluactl create pk
run nfluactl execute pk -e 'local c,r=coroutine.create,coroutine.resume
local function f(d) while true do if d>0 then r(c(f),d-1) end end end
function nested(pkt) f(4) end'
run iptables -A FORWARD -p icmp -m lua --state pk --function nested
stats pk
c0=$ST_calls e0=$ST_errors b0=$ST_budget_hits
out=$(nsdo "$CLI" ping -q -c 3 -i 0.2 -W 5 "$S4" 2>&1) || fail "ping through the router: $out"
echo "    $(printf '%s\n' "$out" | tail -n 1)"
stats pk
n=$((ST_calls - c0))
echo "    calls +$n errors +$((ST_errors - e0)) budget_hits +$((ST_budget_hits - b0))"
[ "$n" -ge 6 ] || fail "3 pings made $n calls"
assert_eq $((ST_budget_hits - b0)) "$n" "every packet call hit the budget"
assert_eq $((ST_errors - e0)) "$n" "every packet call is an error"
run iptables -F FORWARD
for s in co pk; do run nfluactl destroy "$s"; done
