#!/bin/sh
# Caching a verdict per connection with the connection mark (docs/lua-api.md): connmark rules in
# front of the Lua rule, and a function that sets pkt:connmark(1 or 2) on the first payload
# packet. Requests span several segments (TSO/GSO off in the client, ~5 KB of headers), and
# blocked requests are retransmitted: Lua is still called exactly once per connection, with
# iptables-legacy and iptables-nft.
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/classify.lua <<'EOF'
marked_before, bad_marks = 0, 0

function classify(pkt)
	if pkt:connmark() ~= 0 then marked_before = marked_before + 1 end	-- 0: a new connection
	local bad = pkt:payload():find("\r\nUser-Agent: blockme", 1, true) ~= nil
	local v = bad and 1 or 2
	if pkt:connmark(v) ~= v or pkt:connmark() ~= v then bad_marks = bad_marks + 1 end
	return bad
end
EOF
run nfluactl create web
run nfluactl execute web /tmp/classify.lua

# five headers of ~1000 bytes: the request spans four segments
H1=X-Pad-1:$(printf '%01000d' 1)
H2=X-Pad-2:$(printf '%01000d' 2)
H3=X-Pad-3:$(printf '%01000d' 3)
H4=X-Pad-4:$(printf '%01000d' 4)
H5=X-Pad-5:$(printf '%01000d' 5)
big() {
    "$@" -H "$H1" -H "$H2" -H "$H3" -H "$H4" -H "$H5"
}

n=0
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    step "$ipt: topology $n"
    net_pair "$n" "$n"
    run nsdo "$CLI" ethtool -K eth0 tso off gso off
    serve "$SRV" 80
    run $ipt -A FORWARD -p tcp --dport 80 -m connmark --mark 1 -j DROP
    run $ipt -A FORWARD -p tcp --dport 80 -m connmark --mark 2 -j ACCEPT
    run $ipt -A FORWARD -p tcp --dport 80 -m lua --state web --function classify --tcp-payload -j DROP
    run $ipt -A FORWARD -p tcp --dport 80 -m length --length 500:65535
    stats web
    c0=$ST_calls m0=$ST_matches

    step "$ipt: 3 allowed and 2 blocked connections"
    big get_ok "$CLI" "http://$S4/" -A friend/1
    big get_ok "$CLI" "http://$S4/" -A friend/2
    big get_blocked "$CLI" "http://$S4/" -A blockme/1
    big get_ok "$CLI" "http://$S4/" -A friend/3
    big get_blocked "$CLI" "http://$S4/" -A blockme/2
    net_cut "$n"
    run $ipt -L FORWARD -v -x -n
    echo "$OUT"
    stats web
    echo "calls $((ST_calls - c0)), matches $((ST_matches - m0))"
    assert_eq "$((ST_calls - c0))" 5 "$ipt: Lua calls for 5 connections"
    assert_eq "$((ST_matches - m0))" 2 "$ipt: matches (blocked connections)"
    run nfluactl execute web -e "return marked_before, bad_marks"
    assert_eq "$OUT" "$(printf '0\t0')" "$ipt: connections marked before classify, marks that did not stick"
    dropped=$(pkts $ipt FORWARD 1) accepted=$(pkts $ipt FORWARD 2) big=$(pkts $ipt FORWARD 4)
    # the blocked requests' retransmissions go to the connmark 1 rule, not to Lua
    [ "$dropped" -ge 2 ] || fail "$ipt: connmark 1 dropped $dropped packets"
    # the 3 segments after the first of each allowed request, and the ACKs and FINs
    [ "$accepted" -ge 15 ] || fail "$ipt: connmark 2 accepted $accepted packets"
    # rule 4 counts the large packets that got past rules 1-3: only the first segment of each
    # allowed request (Lua did not match it, so it continued); the connmark 2 rule accepted
    # the later ones
    assert_eq "$big" 3 "$ipt: large packets after the Lua rule (first segments of allowed requests)"
    run $ipt -F FORWARD
done
