#!/bin/sh
# Hostile scripts: every construct that does work outside the VM loop (plain find, patterns,
# string building and comparing, conversions, '...', sorting, the collector, compiling,
# nested coroutines, error objects and message handlers, utf8, string.format) runs until the
# budget stops it, from `execute` and from a packet function, while a client pings through the
# router on the other vCPU and that traffic calls a rule of the same state. Each call must end
# with the budget error within the bound docs/kernel-lua.md states (the time is measured with
# the guest's clock by /test/tools/nflua-timed, and by ping's round trip for the packet path),
# be counted (budget_hits, errors; in a softirq a large allocation may fail first, which is an
# error too), and leave the kernel log clean (run.sh's judge catches soft
# lockups and RCU stalls). Deterministic: no randomness, fixed sizes.
# timeout: 400
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

# The bounds of docs/kernel-lua.md ("Bounded time"), in ms under TCG, for the default budget
# and the largest one; generous: the machine running QEMU is shared with other VMs and builds,
# which made calls of a few ms take 2 s. Times the kernel's slowness (nflua.timescale: on the
# debug kernel the module's call_max_ms backstop is scaled the same way, and ends an emergency
# collection of a 256 MiB heap before the budget does).
BOUND_DEFAULT=$((${NFLUA_BOUND_DEFAULT:-4000} * $(timescale)))
BOUND_MAX=$((${NFLUA_BOUND_MAX:-10000} * $(timescale)))

T=/test/tools/nflua-timed
[ -x $T ] || fail "$T is missing"
CPU_LUA='' CPU_NET=''
if command -v taskset >/dev/null; then CPU_LUA='taskset 2' CPU_NET='taskset 1'; fi

# The corpus: NAME|CODE, one per line. Each runs forever or far past the default budget.
cat >/tmp/corpus <<'LUA'
loop|while true do end
coroutines-nested|local c,r=coroutine.create,coroutine.resume local function f(d) while true do if d>0 then r(c(f),d-1) end end end f(6)
coroutines-wrap|local function f(d) while true do if d>0 then pcall(coroutine.wrap(f),d-1) end end end f(6)
coroutines-yield|local co=coroutine.wrap(function() while true do for i=1,900 do end coroutine.yield() end end) while true do co() end
coroutines-close|while true do local co=coroutine.create(function() local x <close> = setmetatable({},{__close=function() for i=1,900 do end end}) coroutine.yield() end) coroutine.resume(co) coroutine.close(co) end
find-plain|local s=("a"):rep(400000) local p=("a"):rep(199999).."b" while true do s:find(p,1,true) end
find-plain-short|local s=("a"):rep(300000) while true do s:find("ab",1,true) end
find-backtrack|local s=("a"):rep(2000) while true do s:find(".-.-.-.-b") end
find-balance|local s=("("):rep(300000) while true do s:find("%b()") end
find-set|local s=("b"):rep(100000) local p="["..("a"):rep(100000).."]" while true do s:find(p) end
find-frontier|local s=("b"):rep(1000) local p="%f["..("a"):rep(100000).."]" while true do s:find(p) end
find-expand|local s=("a"):rep(300000) while true do s:find("a*$") end
find-long-pattern|local p=("a"):rep(300000) while true do ("b"):find(p) end
gsub-grow|local s=("a"):rep(100000) while true do local x=s:gsub("a","bb") end
rep|while true do local x=("a"):rep(300000) end
rep-sep|while true do local x=("a"):rep(200000,"") end
upper|local s=("a"):rep(300000) while true do local x=s:upper() end
reverse|local s=("a"):rep(300000) while true do local x=s:reverse() end
concat|local s=("a"):rep(200000) while true do local x=s..s end
table-concat|local t={} for i=1,1000 do t[i]=("x"):rep(300) end while true do local x=table.concat(t) end
compare-lt|local a=("x"):rep(200000) local b=("x"):rep(199999).."y" while true do local c=a<b end
compare-eq|local a=("x"):rep(200000) local b=("x"):rep(199999).."x" while true do local c=a==b end
compare-key|local a=("x"):rep(200000) local b=("x"):rep(199999).."x" local t={[a]=1} while true do local v=t[b] end
compare-nul|local a=("\0"):rep(200000) local b=("\0"):rep(200000) while true do local c=a<=b end
tonumber|local s=(" "):rep(300000).."1" while true do local x=s+1 end
varargs|local t={} for i=1,20000 do t[i]=i end local function f(...) while true do local n=select("#",...) end end f(table.unpack(t))
sort|local t={} for i=1,200 do t[i]=("x"):rep(2000)..(i%7) end while true do table.sort(t) end
move|while true do table.move({},1,1<<40,2) end
gc-collect|local t={} for i=1,8000 do t[i]={} end while true do collectgarbage() end
gc-generational|local t={} for i=1,8000 do t[i]={} end while true do collectgarbage("generational") collectgarbage("incremental") end
gc-emergency|local t={} pcall(function() while true do t[#t+1]={} end end) while true do pcall(string.rep,"x",100000) end
load-comment|local s="--"..("x"):rep(300000) while true do load(s) end
load-reader|local p=("-"):rep(100000) load(function() return p end)
format-width|local a={} for i=1,200 do a[i]=i end local f=("%99d"):rep(200) while true do local x=f:format(table.unpack(a)) end
format-percent|local f=("%%"):rep(200000) while true do local x=f:format() end
packsize|local f=("x"):rep(300000) while true do string.packsize(f) end
error-tostring|error(setmetatable({},{__tostring=function() while true do end end}))
error-index|local mt={__tostring=function(t) return t.x end} mt.__index=function() while true do end end error(setmetatable({},mt))
handler|xpcall(function() error("x") end, function(e) while true do end end)
handler-recursive|local function h(e) error(e) end while true do xpcall(error,h) end
utf8-len|local s=("\u{7FF}"):rep(150000) while true do utf8.len(s) end
utf8-codes|local s=("\x80"):rep(300000) local f=utf8.codes("a") while true do f(s,0) end
LUA

# hits STATE: its budget_hits counter
hits() { nfluactl stats "$1" | sed -n 's/^budget_hits=//p'; }

# corpus STATE BOUND [NAME...]: run the corpus (or the named entries) as execute on STATE
corpus() {
    st=$1 bound=$2
    shift 2
    while IFS='|' read -r name code; do
        if [ $# -gt 0 ]; then
            case " $* " in *" $name "*) ;; *) continue ;; esac
        fi
        h0=$(hits "$st")
        # shellcheck disable=SC2086 # CPU_LUA is a command prefix or empty
        line=$($CPU_LUA $T "$st" "$code") || fail "$name: no reply"
        err=${line%% *} ms=${line#* }
        ms=${ms%% *}
        echo "    $st $name: ${ms} ms, errno $err: $(echo "$line" | cut -d' ' -f3- | cut -c1-90)"
        assert_eq "$err" 62 "$name on $st: errno ETIME (budget)"
        case $line in *budget*) ;; *) fail "$name on $st: no budget message: $line" ;; esac
        [ "$ms" -le "$bound" ] || fail "$name on $st: $ms ms, over the bound of $bound ms"
        assert_eq "$(hits "$st")" $((h0 + 1)) "$name on $st: one budget hit"
        run nfluactl execute "$st" -e 'collectgarbage() return 6 * 7'
        assert_eq "$OUT" 42 "$st works after $name"
    done </tmp/corpus
}

step "traffic: a client pings through the router, every echo request calls state h"
net_pair 5 35
run nfluactl create h
run nfluactl execute h -e 'function pass(pkt) return false end'
run iptables -A FORWARD -p icmp -m lua --state h --function pass
rm -f /tmp/stop
# shellcheck disable=SC2086
( while [ ! -e /tmp/stop ]; do nsdo "$CLI" $CPU_NET ping -q -c 50 -i 0.02 -W 1 "$S4" >/dev/null 2>&1; done ) &
sleep 1
c0=$(nfluactl stats h | sed -n 's/^calls=//p')
[ "$c0" -gt 3 ] || fail "the ping traffic does not reach the rule (calls=$c0)"

step "the corpus from execute, default budget (100000), bound $BOUND_DEFAULT ms"
corpus h "$BOUND_DEFAULT"
c1=$(nfluactl stats h | sed -n 's/^calls=//p')
[ "$c1" -gt "$c0" ] || fail "no packet was filtered while the corpus ran"

step "the worst of the corpus with the largest budget and maxalloc, bound $BOUND_MAX ms"
run nfluactl create hx --maxalloc 256M --budget 10000000
corpus hx "$BOUND_MAX" loop coroutines-nested find-plain find-set compare-eq tonumber varargs \
    gc-collect gc-emergency load-comment format-percent handler-recursive utf8-codes

# On a slower kernel (only the debug kernel has a timescale) the heap shrinks by the fourth
# power of its timescale and is filled in more calls. There KASAN and kmemleak make each
# allocation and free far dearer (every kfree records a stack for kmemleak's call_rcu), and a
# collection's sweep is one C loop that no backstop can end, charged per block at a stock
# kernel's cost: the debug kernel freed 133332 tables in over 20 s with BHs off (a soft
# lockup) and 44442 in 17.3 s (390 us each), so its heap is about 15000 tables.
TS=$(timescale)
CHUNK=$((200000 / TS / TS / TS / TS)) CALLS=$((2 * TS))
step "a full collection of a big heap ($((CHUNK * CALLS)) tables: about $((35 * CHUNK * CALLS / 2000)) thousand instructions), bound $BOUND_MAX ms"
i=1
while [ $i -le $CALLS ]; do
    # (one table holds at most 256K array slots: a block is at most 4 MiB)
    line=$($CPU_LUA $T hx "local t = {} for i = 1, $CHUNK do t[i] = {} end big = big or {} big[#big + 1] = t return #big")
    echo "    fill $i: $line"
    assert_eq "${line%% *}" 0 "filling hx ($line)"
    i=$((i + 1))
done
run nfluactl stats hx
echo "    $(printf '%s\n' "$OUT" | grep '^mem=')"
# timed_gc WHAT CODE: CODE on hx succeeds within BOUND_MAX
timed_gc() {
    line=$($CPU_LUA $T hx "$2")
    echo "    $1: $line"
    assert_eq "${line%% *}" 0 "$1 on hx ($line)"
    ms=${line#* }
    [ "${ms%% *}" -le "$BOUND_MAX" ] || fail "$1 took ${ms%% *} ms"
}
timed_gc "collectgarbage() over that heap" 'collectgarbage() return collectgarbage("count") // 1024'
# the collection that frees it all: the sweep of every block
timed_gc "big = nil, collectgarbage()" 'big = nil collectgarbage() return collectgarbage("count") // 1024'

step "the corpus from a packet function (softirq), default budget"
run nfluactl create hp
run iptables -I FORWARD -p icmp -m lua --state hp --function f
while IFS='|' read -r name code; do
    [ "$name" != gc-emergency ] || continue
    run nfluactl execute hp -e "collectgarbage() function f(pkt) $code end"
    stats hp
    c0=$ST_calls e0=$ST_errors b0=$ST_budget_hits
    out=$(nsdo "$CLI" ping -q -c 3 -i 0.1 -W 5 "$S4" 2>&1) || fail "$name: ping through the router failed: $out"
    rtt=$(printf '%s\n' "$out" | sed -n 's|.*= [0-9.]*/[0-9.]*/\([0-9.]*\) ms|\1|p')
    stats hp
    echo "    packet $name: max round trip ${rtt} ms, calls +$((ST_calls - c0)) budget_hits +$((ST_budget_hits - b0))"
    [ $((ST_calls - c0)) -ge 3 ] || fail "$name: $((ST_calls - c0)) calls for 3 pings"
    # an error each time: the budget, or "not enough memory" where a softirq's atomic
    # allocation of a large string fails first
    assert_eq $((ST_errors - e0)) $((ST_calls - c0)) "$name: every packet call is an error"
    # a round trip crosses the rule twice (the request and the reply)
    awk -v r="$rtt" -v b="$BOUND_DEFAULT" 'BEGIN { exit !(r + 0 <= 2 * b) }' ||
        fail "$name: a round trip took $rtt ms, over twice the bound of $BOUND_DEFAULT ms"
done </tmp/corpus

touch /tmp/stop
wait
run iptables -F FORWARD
for s in h hx hp; do run nfluactl destroy $s; done
