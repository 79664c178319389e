#!/bin/sh
# The talk's example on a router: a User-Agent blocklist in Lua, called from the FORWARD chain,
# between a real curl (namespace c*) and a real HTTP server (busybox httpd in s*), with
# iptables-legacy and iptables-nft (through nft_compat), each on its own pair of namespaces.
# The rule's packet counter, a plain counting rule in front of it and the state's counters must
# agree exactly.
# timeout: 120
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/ua.lua <<'EOF'
local blocked = { "sqlmap", "evilbot" }

function check_ua(pkt)
	local ua = pkt:payload():match("\r\n[Uu]ser%-[Aa]gent: *([^\r\n]*)")
	if not ua then return false end
	ua = ua:lower()
	for _, word in ipairs(blocked) do
		if ua:find(word, 1, true) then return true end
	end
	return false
end
EOF
run nfluactl create web
run nfluactl execute web /tmp/ua.lua

refs0=$(nft_compat_refs)
n=0
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    step "$ipt: topology $n"
    net_pair "$n" "$n"
    serve "$SRV" 80
    # rule 1 counts every packet that reaches rule 2 (the Lua rule)
    run $ipt -A FORWARD -p tcp --dport 80
    run $ipt -A FORWARD -p tcp --dport 80 -m lua --state web --function check_ua -j DROP
    assert_eq "$(counter web rules)" 1 "$ipt: rules holding web"
    if [ $ipt = iptables-nft ]; then
        r=$(nft_compat_refs)
        [ "$r" -gt "$refs0" ] || fail "nft_compat refcount $r (was $refs0): the nft run did not use it"
        echo "nft_compat refcount $refs0 -> $r"
        run iptables-legacy -S FORWARD
        case $OUT in *lua*) fail "legacy table has a lua rule in the nft run: $OUT" ;; esac
    else
        assert_eq "$(nft_compat_refs)" "$refs0" "nft_compat refcount in the legacy run"
        run iptables-nft -S FORWARD
        case $OUT in *lua*) fail "nft table has a lua rule in the legacy run: $OUT" ;; esac
    fi
    calls0=$(counter web calls) matches0=$(counter web matches)

    step "$ipt: an allowed User-Agent gets the page"
    get_ok "$CLI" "http://$S4/" -A "Mozilla/5.0 (good)"
    assert_eq "$BODY" "hello from $SRV:80" "$ipt: page"
    assert_eq "$(counter web matches)" "$matches0" "$ipt: matches after the allowed request"
    assert_eq "$(pkts $ipt FORWARD 2)" 0 "$ipt: Lua rule's packets after the allowed request"
    seen=$(pkts $ipt FORWARD 1)
    [ "$seen" -ge 4 ] || fail "$ipt: only $seen packets of the allowed request reached the rules"
    assert_eq "$(($(counter web calls) - calls0))" "$seen" "$ipt: Lua calls = packets that reached the rule"

    step "$ipt: a blocked User-Agent gets nothing"
    get_blocked "$CLI" "http://$S4/" -A "EvilBot/2.1"
    [ -z "$BODY" ] || fail "$ipt: blocked request got '$BODY'"

    step "$ipt: the allowed one still works"
    get_ok "$CLI" "http://$S4/" -A "curl-but-fine"

    net_cut "$n"
    run $ipt -L FORWARD -v -x -n
    echo "$OUT"
    nfluactl stats web
    dropped=$(pkts $ipt FORWARD 2)
    seen=$(pkts $ipt FORWARD 1)
    # the blocked request and its retransmissions (and nothing else) matched and were dropped
    [ "$dropped" -ge 1 ] || fail "$ipt: the Lua rule dropped nothing"
    assert_eq "$(($(counter web matches) - matches0))" "$dropped" "$ipt: matches = packets the rule dropped"
    assert_eq "$(($(counter web calls) - calls0))" "$seen" "$ipt: Lua calls = packets that reached the rule"
    assert_eq "$(counter web errors)" 0 "$ipt: errors"
    assert_eq "$(counter web bad_results)" 0 "$ipt: bad_results"

    run $ipt -F FORWARD
    assert_eq "$(counter web rules)" 0 "$ipt: rules holding web after the flush"
done
assert_eq "$(nft_compat_refs)" "$refs0" "nft_compat refcount after the flush"
run nfluactl destroy web
