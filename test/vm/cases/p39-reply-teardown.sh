#!/bin/sh
# Teardown while tcpreply answers wait to be sent. An answer is queued per CPU and sent by a
# tasklet after the table traversal (nflua-kmod/src/tcpreply.c); each queued answer holds a
# reference on its network namespace, its route and its conntrack entry. Here answers are
# produced as fast as the guest can, on both vCPUs (segments from a client namespace through
# the router, softirq; and from a process inside the namespace, OUTPUT), then at once:
# - the rules are deleted and the module is unloaded (its tasklets must be done and the queues
#   empty before its code and per-CPU data go away: a tasklet left behind runs freed code);
# - the namespace holding the rules is deleted (a queued answer must keep its namespace alive
#   until sent, and drop that reference after: the namespace, and its veth, must go away).
# The kernel log must stay clean: on the debug kernel KASAN reports a use-after-free and
# kmemleak a leaked skb or namespace. Answers refused because a CPU's queue was full (128)
# show that the queues were really filled.
# timeout: 400
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

TF=/test/tools/tcpflood
[ -x $TF ] || fail "$TF is missing"
ROUNDS=${NFLUA_TEARDOWN_ROUNDS:-1}

cat >/tmp/q.lua <<'EOF'
n, full, other = 0, 0, 0
function r(pkt)
	local ok, why = pkt:tcpreply("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
	if ok then
		n = n + 1
	elseif tostring(why):find("too many replies", 1, true) then
		full = full + 1
	else
		other = other + 1
	end
	return true
end
EOF

net_pair 39 39

# target_up: state q in the server namespace, answering every request to port 80 that
# arrives (INPUT, IPv4 legacy and IPv6 nft) or leaves to its own loopback (OUTPUT); the
# requests are dropped
target_up() {
    run nsdo "$SRV" nfluactl create q
    run nsdo "$SRV" nfluactl execute q /tmp/q.lua
    rules -A
}

# rules OP: add (-A) or delete (-D) the answering rules
rules() {
    run nsdo "$SRV" iptables-legacy "$1" INPUT -p tcp --dport 80 -m lua --state q --function r --tcp-payload -j DROP
    run nsdo "$SRV" ip6tables-nft "$1" INPUT -p tcp --dport 80 -m lua --state q --function r --tcp-payload -j DROP
    run nsdo "$SRV" iptables-legacy "$1" OUTPUT -o lo -p tcp --dport 80 -m lua --state q --function r --tcp-payload -j DROP
}

# flood [local]: tcpflood from the client to the server (v4 and v6) and, with "local", inside
# the server to its loopback; sets FLOODS
flood() {
    nsbg "$CLI" $TF "$S4" 80 120 >/dev/null
    FLOODS=$!
    nsbg "$CLI" $TF "$S6" 80 120 >/dev/null
    FLOODS="$FLOODS $!"
    if [ "${1:-}" = local ]; then
        # stopped before the namespace is deleted: a process inside keeps it alive
        nsbg "$SRV" $TF 127.0.0.1 80 120 >/dev/null
        FLOODS="$FLOODS $!"
    fi
}

# answered: wait (up to 20 s) until q has answered more than 100 requests; prints the counts
answered() {
    _i=0
    while :; do
        run nsdo "$SRV" nfluactl execute q -e 'return n, full, other'
        # shellcheck disable=SC2086 # three numbers
        set -- $OUT
        [ "$1" -le 100 ] || break
        _i=$((_i + 1))
        [ $_i -lt 40 ] || fail "q answered only $1 requests in 20 s ($OUT)"
        sleep 0.5
    done
    echo "    answered $1, refused with a full queue $2, otherwise $3"
    FULL=$((FULL + $2))
}

stop_floods() {
    # shellcheck disable=SC2086 # a list of pids
    kill $FLOODS 2>/dev/null
    wait
    ! pidof tcpflood >/dev/null || fail "tcpflood still runs after it was stopped"
}

# seconds of guest uptime
uptime_s() { cut -d. -f1 /proc/uptime; }
DISMANTLE_MAX=$((20 * $(timescale)))

FULL=0
target_up
r=1
while [ $r -le "$ROUNDS" ]; do
    step "round $r: the module is unloaded as soon as the answering rules are gone"
    flood local
    answered
    rules -D
    # at once: the module is free as soon as the last rule has released it (nft_compat
    # releases it from a work item: retry until it does)
    i=0
    while ! rmmod nflua 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 200 ] || fail "rmmod nflua keeps failing"
        sleep 0.05
    done
    [ ! -e /dev/nflua ] || fail "/dev/nflua still there after rmmod"
    stop_floods
    run modprobe nflua
    target_up
    r=$((r + 1))
done

r=1
while [ $r -le "$ROUNDS" ]; do
    step "round $r: the answering namespace is deleted while requests arrive"
    flood
    answered
    run ip netns del "$SRV"
    # the namespace is dismantled (its veth peer disappears from the router) while the
    # requests keep coming: queued answers must not keep it alive
    t0=$(uptime_s)
    while ip link show rs39 >/dev/null 2>&1; do
        [ $(($(uptime_s) - t0)) -lt $DISMANTLE_MAX ] ||
            fail "namespace $SRV was not dismantled after $DISMANTLE_MAX s of requests (a reference left?)"
        sleep 0.05
    done
    echo "    dismantled after $(($(uptime_s) - t0)) s"
    stop_floods
    run ip netns add "$SRV"
    run ip -n "$SRV" link set lo up
    _net_leg rs39 "$SRV" 2 39
    target_up
    r=$((r + 1))
done
echo "    answers refused because a CPU's queue was full: $FULL in all"

step "the module still unloads cleanly"
rules -D
run nsdo "$SRV" nfluactl destroy q
run nfluactl stats
assert_contains "$OUT" "states_mem=0" "no state memory held"
i=0
while ! rmmod nflua 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 200 ] || fail "rmmod nflua keeps failing"
    sleep 0.05
done
dmesg | grep -q "BUG: leaked" && fail "memory leaked at unload: $(dmesg | grep 'BUG: leaked')"
run modprobe nflua
