#!/bin/sh
# pkt:connmark() on a conntrack template. In raw PREROUTING after `-j CT --zone 1` the packet
# carries the rule's template, one object shared by every packet the rule sees, not a
# connection: writing its mark used to report success while the connection's mark stayed 0 and
# every later connection read the value. Now connmark skips templates as nft_ct does: nil (as
# for an untracked packet, `-j CT --notrack`). And pkt:mark(v) in a match (the decision in
# docs/lua-api.md): it is set at once on the packet, whether the rule matches or not, and the
# next rule sees it.
# timeout: 180
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/t.lua <<'EOF'
SEEN = {}
function tmpl(p)	-- records connmark() and connmark(5) per connection (its SYN)
	local before = p:connmark()
	SEEN[#SEEN + 1] = tostring(before) .. ">" .. tostring(p:connmark(5))
	return false
end
function seen() return table.concat(SEEN, " ") end
function setmark(p) p:mark(7) return false end
EOF
run nfluactl create t
run nfluactl execute t /tmp/t.lua
seen() {
    run nfluactl execute t -e 'return seen()'
    printf '%s' "$OUT"
}

for ipt in iptables-legacy iptables-nft; do
    case $ipt in *legacy) n=82 ;; *) n=83 ;; esac
    net_pair "$n" "$n"
    serve "$SRV" 80
    run nfluactl execute t -e 'SEEN = {}'
    step "$ipt: raw PREROUTING after -j CT --zone 1 (a template)"
    run "$ipt" -t raw -A PREROUTING -i "rc$n" -p tcp --dport 80 -j CT --zone 1
    run "$ipt" -t raw -A PREROUTING -i "rc$n" -p tcp --dport 80 --syn -m lua --state t --function tmpl
    run "$ipt" -A FORWARD -p tcp --dport 80 -m connmark --mark 5
    get_ok "$CLI" "http://$S4/"
    get_ok "$CLI" "http://$S4/"
    assert_eq "$(seen)" "nil>nil nil>nil" "$ipt: connmark() and connmark(5) on a template, two connections"
    assert_eq "$(pkts "$ipt" FORWARD 1)" 0 "$ipt: packets of connections with mark 5"
    run "$ipt" -t raw -F PREROUTING

    step "$ipt: raw PREROUTING after -j CT --notrack (untracked)"
    run nfluactl execute t -e 'SEEN = {}'
    run "$ipt" -t raw -A PREROUTING -i "rc$n" -p tcp --dport 80 -j CT --notrack
    run "$ipt" -t raw -A PREROUTING -i "rc$n" -p tcp --dport 80 --syn -m lua --state t --function tmpl
    run "$ipt" -t raw -A PREROUTING -i "rs$n" -p tcp --sport 80 -j CT --notrack
    get_ok "$CLI" "http://$S4/"
    assert_eq "$(seen)" "nil>nil" "$ipt: connmark on an untracked packet"
    run "$ipt" -t raw -F PREROUTING
    run "$ipt" -F FORWARD

    step "$ipt: pkt:mark(v) in a match is set at once, matching or not"
    run "$ipt" -A FORWARD -i "rc$n" -p tcp --dport 80 -m lua --state t --function setmark
    run "$ipt" -A FORWARD -i "rc$n" -p tcp --dport 80 -m mark --mark 7
    get_ok "$CLI" "http://$S4/"
    net_cut "$n"
    assert_eq "$(pkts "$ipt" FORWARD 1)" 0 "$ipt: the setting rule does not match"
    [ "$(pkts "$ipt" FORWARD 2)" -ge 3 ] || fail "$ipt: the next rule saw mark 7 on $(pkts "$ipt" FORWARD 2) packets"
    run "$ipt" -F FORWARD
done
run nfluactl destroy t
