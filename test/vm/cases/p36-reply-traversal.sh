#!/bin/sh
# pkt:tcpreply() must not let a packet skip rules. The reply used to be sent while the table
# traversal that called Lua was still running; iptables-legacy keeps a table's chain jump stack
# per CPU, so the reply's OUTPUT traversal, jumping into a user chain, overwrote where FORWARD
# was to return from its user chain: the FORWARD rules after it were skipped and the request
# went through. fw3 (OpenWrt) has user chains in both. Now the reply is sent after the
# traversal. Rules: FORWARD -> CHK (a match that replies and returns false), then a DROP rule
# for GET requests; OUTPUT -> OCH. The client gets the reply, and the DROP rule counts the
# request; legacy and nft.
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/j.lua <<'EOF'
PAGE = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n" ..
	"Connection: close\r\n\r\nblocked by nflua\n"
REPLIES, GETS = 0, 0
function reply(pkt)
	if pkt:tcpreply(PAGE) then REPLIES = REPLIES + 1 end
	return false
end
function isget(pkt)
	if pkt:payload(1, 4) ~= "GET " then return false end
	GETS = GETS + 1
	return true
end
EOF
run nfluactl create j
run nfluactl execute j /tmp/j.lua

lua_get() {
    run nfluactl execute j -e "return $1"
    printf '%s' "$OUT"
}

n=35
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    net_pair "$n" "$n"
    serve "$SRV" 80
    step "$ipt: FORWARD -> CHK (tcpreply), then DROP; OUTPUT -> OCH"
    run "$ipt" -N CHK
    run "$ipt" -N OCH
    run "$ipt" -A FORWARD -p tcp --dport 80 -j CHK
    run "$ipt" -A CHK -m lua --state j --function reply --tcp-payload
    run "$ipt" -A FORWARD -p tcp --dport 80 -m lua --state j --function isget --tcp-payload -j DROP
    run "$ipt" -A OUTPUT -j OCH
    r0=$(lua_get REPLIES) g0=$(lua_get GETS)
    fetch "$CLI" 5 -i "http://$S4/"
    [ "$RC" = 0 ] || fail "$ipt: curl exit $RC ($CERR), expected the router's page"
    assert_contains "$BODY" "blocked by nflua" "$ipt: the reply reached the client"
    net_cut "$n"
    assert_eq "$(lua_get REPLIES)" "$((r0 + 1))" "$ipt: replies sent"
    [ "$(lua_get GETS)" -ge "$((g0 + 1))" ] || fail "$ipt: the DROP rule's function never saw the request (FORWARD rules after CHK were skipped)"
    [ "$(pkts "$ipt" FORWARD 2)" -ge 1 ] || fail "$ipt: DROP rule counter $(pkts "$ipt" FORWARD 2): the request skipped it"
    [ "$(pkts "$ipt" OUTPUT 1)" -ge 1 ] || fail "$ipt: the reply did not pass OUTPUT"
    run "$ipt" -F
    run "$ipt" -X
done
run nfluactl destroy j
