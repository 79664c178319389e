#!/bin/sh
# The LUA target's verdicts on the router, each observed on real traffic (curl -> busybox
# httpd through FORWARD), with iptables-legacy and iptables-nft:
#   1  -j LUA --function verdict          (returns the global MODE)
#   2  plain counting rule                 (counts the packets the LUA rule let continue)
#   3  -j DROP, or -j ACCEPT               (what "the next rule decides")
# "accept" gets the page although rule 3 drops; "drop" gets nothing; "continue" does what rule
# 3 says; "reset" resets the connection (curl 56 "Connection reset by peer" on the request, 7
# "Couldn't connect" on the SYN, where a drop would be 28 "timed out": the status tells a reset
# from a timeout, no clock needed); an
# unknown string, a number, a table, no value and an error all continue and count in
# bad_results or errors.
# timeout: 400
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/v.lua <<'EOF'
MODE, PAYLOAD_ONLY = "continue", false

function verdict(pkt)
	if PAYLOAD_ONLY and pkt.payloadlen == 0 then return "continue" end
	if MODE == "error" then error("verdict is broken") end
	if MODE == "number" then return 42 end
	if MODE == "table" then return {} end
	if MODE == "nothing" then return end
	return MODE
end
EOF
run nfluactl create v
run nfluactl execute v /tmp/v.lua

# mode MODE [payload]: what verdict() returns (for payload packets only with "payload")
mode() {
    po=false
    [ "${2:-}" != payload ] || po=true
    run nfluactl execute v -e "MODE, PAYLOAD_ONLY = '$1', $po"
}

# snap: remember the counters; delta: D1, D2 (rules 1 and 2), DCALLS, DBAD, DERR since snap
snap() {
    quiet $ipt FORWARD 1
    snapshot $ipt FORWARD 1 v 2
    S1=$SP S2=$SP2
    SC=$ST_calls SB=$ST_bad_results SE=$ST_errors
}
delta() {
    quiet $ipt FORWARD 1
    snapshot $ipt FORWARD 1 v 2
    D1=$((SP - S1)) D2=$((SP2 - S2))
    DCALLS=$((ST_calls - SC)) DBAD=$((ST_bad_results - SB)) DERR=$((ST_errors - SE))
    echo "    LUA rule $D1, continued $D2, calls $DCALLS, bad_results $DBAD, errors $DERR"
    assert_eq "$DCALLS" "$D1" "$ipt $M: Lua calls = packets at the LUA rule"
}

n=0
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    step "$ipt: topology $n"
    net_pair "$n" "$n"
    serve "$SRV" 80
    URL=http://$S4/
    # only this topology's client: late packets of the previous one (retransmissions, its
    # server's idle-timeout FIN) must not count here
    run $ipt -A FORWARD -i "rc$n" -p tcp --dport 80 -j LUA --state v --function verdict
    run $ipt -A FORWARD -i "rc$n" -p tcp --dport 80
    run $ipt -A FORWARD -i "rc$n" -p tcp --dport 80 -j DROP

    M=accept
    step "$ipt: accept (rule 3 drops)"
    mode accept; snap
    get_ok "$CLI" "$URL"
    delta
    [ "$D1" -ge 4 ] || fail "$ipt accept: $D1 packets at the LUA rule"
    assert_eq "$D2" 0 "$ipt accept: packets that continued"

    M=drop
    step "$ipt: drop"
    mode drop; snap
    get_blocked "$CLI" "$URL"
    delta
    [ "$D1" -ge 1 ] || fail "$ipt drop: no packet at the LUA rule"
    assert_eq "$D2" 0 "$ipt drop: packets that continued"

    M="continue"
    step "$ipt: continue, rule 3 drops"
    mode continue; snap
    get_blocked "$CLI" "$URL"
    delta
    [ "$D1" -ge 1 ] || fail "$ipt continue: no packet at the LUA rule"
    assert_eq "$D2" "$D1" "$ipt continue: packets that continued"

    run $ipt -R FORWARD 3 -i "rc$n" -p tcp --dport 80 -j ACCEPT
    M="continue"
    step "$ipt: continue, rule 3 accepts"
    mode continue; snap
    get_ok "$CLI" "$URL"
    delta
    assert_eq "$D2" "$D1" "$ipt continue: packets that continued"
    assert_eq "$DBAD$DERR" 00 "$ipt continue: bad_results and errors"

    M=reset
    step "$ipt: reset on the request"
    mode reset payload; snap
    fetch "$CLI" 10 "$URL"
    echo "    curl exit $RC after ${FT}s: $CERR"
    assert_eq "$RC" 56 "$ipt reset: curl exit status"
    assert_contains "$CERR" "Connection reset by peer" "$ipt reset: curl error"
    delta
    assert_eq "$D2" "$((D1 - 1))" "$ipt reset: all but the request continued"

    step "$ipt: reset on the SYN"
    mode reset; snap
    fetch "$CLI" 10 "$URL"
    echo "    curl exit $RC after ${FT}s: $CERR"
    # a RST in answer to the SYN: "Couldn't connect to server" at once, not a timeout
    assert_eq "$RC" 7 "$ipt reset SYN: curl exit status"
    delta
    assert_eq "$D1" 1 "$ipt reset SYN: packets at the LUA rule"
    assert_eq "$D2" 0 "$ipt reset SYN: packets that continued"
    assert_eq "$DBAD$DERR" 00 "$ipt: valid verdicts count nothing"

    for M in maybe number table nothing error; do
        step "$ipt: $M behaves as continue"
        mode "$M"; snap
        get_ok "$CLI" "$URL"
        delta
        [ "$D1" -ge 4 ] || fail "$ipt $M: $D1 packets at the LUA rule"
        assert_eq "$D2" "$D1" "$ipt $M: packets that continued"
        if [ "$M" = error ]; then
            assert_eq "$DERR $DBAD" "$D1 0" "$ipt $M: errors, bad_results"
        else
            assert_eq "$DBAD $DERR" "$D1 0" "$ipt $M: bad_results, errors"
        fi
    done
    run $ipt -F FORWARD
done
dmesg | grep 'nflua:' | tail -n 5
dmesg | grep -q 'nflua: v: .*verdict is broken' || fail "the error was not logged"
run nfluactl destroy v
