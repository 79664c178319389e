#!/bin/sh
# State lifecycle against traffic: while rules call Lua on both vCPUs, functions are replaced,
# limits changed, other states created and destroyed, the used state's destroy is refused, the
# rules and state are torn down and rebuilt, a namespace with a busy rule is deleted, and the
# module is unloaded (no rules left) and loaded again. The kernel log must stay clean.
# timeout: 240
. /test/lib.sh

IO=/test/tools/nflua-io
SECS=200	# upper bound: the senders are stopped at the end

# nsx NS CMD...: CMD in network namespace NS
nsx() {
    _ns=$1
    shift
    ip netns exec "$_ns" "$@"
}

# rules NS OP: add (-A) or delete (-D) the match and target rules of state s in NS
rules() {
    nsx "$1" iptables-legacy "$2" OUTPUT -p udp -m lua --state s --function f -j ACCEPT &&
        nsx "$1" iptables-legacy "$2" INPUT -p udp -j LUA --state s --function v
}

# setup NS: state s with f and v, rules on
setup() {
    nsx "$1" nfluactl create s --budget 20000 &&
        nsx "$1" nfluactl execute s -e 'n = 0 function f(p) n = n + 1 return n % 3 == 0 end
            function v(p) return "continue" end' &&
        rules "$1" -A
}

step "traffic on both vCPUs through a match and a target rule"
run ip netns add lr
run ip -n lr link set lo up
setup lr || fail "setup lr"
# two senders (the scheduler spreads them over both vCPUs); ip execs the tool, so $! is it
/usr/sbin/ip netns exec lr $IO flood 127.0.0.1 9 $SECS >/dev/null &
f1=$!
/usr/sbin/ip netns exec lr $IO flood 127.0.0.1 9 $SECS >/dev/null &
f2=$!

step "replace, set, execute, create and destroy while packets run Lua"
i=0
while [ $i -lt 6 ]; do
    run nsx lr nfluactl execute s -e "function f(p) n = n + $i return n % 2 == 0 end"
    run nsx lr nfluactl set s --budget $((5000 + i * 100))
    run nsx lr nfluactl create "t$i" --maxalloc 64K
    run nsx lr nfluactl execute "t$i" -e 'local t = {} for k = 1, 100 do t[k] = k end return #t'
    run nsx lr nfluactl destroy "t$i"
    expect_rc 1 nsx lr nfluactl destroy s
    assert_contains "$ERR" "iptables rule" "destroy of the used state is refused"
    if [ $((i % 3)) = 2 ]; then
        rules lr -D || fail "delete the rules"
        run nsx lr nfluactl destroy s
        setup lr || fail "rebuild state and rules"
    fi
    i=$((i + 1))
done
run nsx lr nfluactl stats s
calls=$(field "$OUT" calls)
[ "$calls" -gt 0 ] || fail "no packet ran Lua (calls=$calls)"

step "a namespace with rules and traffic is deleted"
j=0
while [ $j -lt 2 ]; do
    run ip netns add lx
    run ip -n lx link set lo up
    setup lx || fail "setup lx"
    nsx lx $IO flood 127.0.0.1 9 2 >/dev/null &
    nsx lx $IO flood 127.0.0.1 9 2 >/dev/null &
    nsx lx nfluactl execute s -e 'function f(p) return true end' >/dev/null
    wait $!
    run ip netns del lx
    j=$((j + 1))
done

step "the module is unloaded while traffic flows, without rules, with states left"
rules lr -D || fail "delete the rules"
run nsx lr nfluactl create extra
i=0
while ! rmmod nflua 2>/dev/null; do
    # netns lx may still be going away (its rules hold the module)
    i=$((i + 1))
    [ $i -lt 100 ] || fail "rmmod nflua keeps failing"
    sleep 0.1
done
[ ! -e /dev/nflua ] || fail "/dev/nflua still there"
run modprobe nflua
run nsx lr nfluactl list
assert_eq "$OUT" "" "a new module has no states"
kill "$f1" "$f2"
wait
run ip netns del lr
dmesg | grep -q "BUG: leaked" && fail "memory leaked at unload: $(dmesg | grep 'BUG: leaked')"
run nfluactl stats
assert_contains "$OUT" "states_mem=0" "no state memory held"
