#!/bin/sh
# The match's options on real traffic: '!' inversion, --tcp-payload (only payload-carrying TCP
# packets reach Lua; the precondition is not inverted by '!'), errors never matching even
# inverted; IPv6 through the router with ip6tables (legacy and nft); INPUT and OUTPUT (traffic
# to and from the router itself), IPv4 and IPv6.
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/f.lua <<'EOF'
n_all, n_all_payload, n_payload, n_payload_bad = 0, 0, 0, 0
seen = {}

function count_all(pkt)
	n_all = n_all + 1
	if pkt.payloadlen > 0 then n_all_payload = n_all_payload + 1 end
	return false
end

function count_payload(pkt)
	n_payload = n_payload + 1
	if pkt.protocol ~= 6 or pkt.payloadlen == 0 or #pkt:payload() ~= pkt.payloadlen then
		n_payload_bad = n_payload_bad + 1
	end
	return false
end

function good_ua(pkt)
	return pkt:payload():find("\r\nUser-Agent: good", 1, true) ~= nil
end

function bad_ua(pkt)
	local ua = pkt:payload():match("\r\nUser%-Agent: ([^\r\n]*)")
	if ua then seen[#seen + 1] = pkt.family .. " " .. pkt.src .. " " .. pkt.dst .. " " .. ua end
	return ua ~= nil and ua:find("bad", 1, true) ~= nil
end

function broken(pkt)
	error("broken on purpose")
end

-- seen_from(src): the user agents of packets from src, in order
function seen_from(src)
	local t = {}
	for _, s in ipairs(seen) do
		local fam, a, b, ua = s:match("^(%d) (%S+) (%S+) (.*)$")
		if a == src then t[#t + 1] = fam .. ">" .. b .. ":" .. ua end
	end
	return table.concat(t, ",")
end
EOF
run nfluactl create f
run nfluactl execute f /tmp/f.lua
luaval() { run nfluactl execute f -e "return $1"; printf '%s' "$OUT"; }

step "iptables-legacy: --tcp-payload and ! on FORWARD"
net_pair 1 1
serve "$SRV" 80
ipt=iptables-legacy
run $ipt -A FORWARD -p tcp --dport 80 -m lua --state f --function count_all
run $ipt -A FORWARD -p tcp --dport 80 -m lua --tcp-payload --state f --function count_payload
run $ipt -A FORWARD -p tcp --dport 80 -m lua --tcp-payload --state f ! --function good_ua -j DROP
run $ipt -A FORWARD -p tcp --dport 80 -m lua --state f ! --function broken -j DROP
run $ipt -S FORWARD
echo "$OUT"
assert_contains "$OUT" "-m lua --state f ! --function good_ua --tcp-payload -j DROP" "-S with !"
get_ok "$CLI" "http://$S4/" -A good/1
get_ok "$CLI" "http://$S4/" -A good/2
# the connections' last packets may still be on their way (slow TCG guests: 32-bit arm, mips):
# count_all's count and the errors of broken from one moment (no packet between the reads)
_i=0
while :; do
    all=$(luaval n_all); stats f; errs=$ST_errors
    [ "$(luaval n_all)" != "$all" ] || break
    _i=$((_i + 1)); [ $_i -lt 20 ] || fail "count_all does not settle"
done
[ "$all" -ge 8 ] || fail "count_all saw $all packets of two requests"
assert_eq "$(luaval n_all_payload)" 2 "payload packets of two requests (count_all)"
assert_eq "$(luaval n_payload)" 2 "calls of the --tcp-payload function"
assert_eq "$(luaval n_payload_bad)" 0 "--tcp-payload calls without TCP payload"
assert_eq "$(pkts $ipt FORWARD 3)" 0 "drops by ! good_ua after good agents"
assert_eq "$(pkts $ipt FORWARD 4)" 0 "drops by ! broken (errors never match)"
assert_eq "$errs" "$all" "errors of broken (one per packet)"
step "iptables-legacy: ! drops the other agents"
get_blocked "$CLI" "http://$S4/" -A evil/1
net_cut 1
run $ipt -L FORWARD -v -x -n
echo "$OUT"
d=$(pkts $ipt FORWARD 3)
[ "$d" -ge 1 ] || fail "! good_ua dropped nothing"
assert_eq "$(luaval n_payload)" "$((2 + d))" "calls of the --tcp-payload function: 2 + drops"
assert_eq "$(luaval n_all_payload)" "$((2 + d))" "payload packets (count_all)"
assert_eq "$(luaval n_payload_bad)" 0 "--tcp-payload calls without TCP payload"
assert_eq "$(pkts $ipt FORWARD 4)" 0 "drops by ! broken"
run $ipt -F FORWARD

n=1
for ipt in ip6tables-legacy ip6tables-nft; do
    n=$((n + 1))
    step "$ipt: IPv6 through the router (topology $n)"
    net_pair "$n" "$n"
    serve "$SRV" 80
    run $ipt -A FORWARD -p tcp --dport 80 -m lua --tcp-payload --state f --function bad_ua -j DROP
    [ $ipt = ip6tables-legacy ] || [ "$(nft_compat_refs)" -gt 0 ] || fail "nft_compat unused by $ipt"
    get_ok "$CLI" "http://[$S6]/" -A good/v6
    get_blocked "$CLI" "http://[$S6]/" -A bad/v6
    get_ok "$CLI" "http://$S4/" -A bad/v4     # an IPv6 rule leaves IPv4 alone
    net_cut "$n"
    d=$(pkts $ipt FORWARD 1)
    [ "$d" -ge 1 ] || fail "$ipt: nothing dropped"
    got=$(luaval "seen_from('$C6')")
    case $got in
    "6>$S6:good/v6,6>$S6:bad/v6"*) ;;
    *) fail "$ipt: agents seen from $C6: $got" ;;
    esac
    assert_eq "$(luaval "seen_from('$C4')")" "" "$ipt: IPv4 packets seen"
    run $ipt -F FORWARD
done

step "INPUT and OUTPUT, IPv4 and IPv6 (topology 4)"
net_pair 4 4
serve "$SRV" 80
serve - 8080
for ipt in iptables ip6tables; do
    run $ipt -A INPUT -p tcp --dport 8080 -m lua --tcp-payload --state f --function bad_ua -j DROP
    run $ipt -A OUTPUT -p tcp --dport 80 -m lua --tcp-payload --state f --function bad_ua -j DROP
done
step "INPUT: client -> router"
get_ok "$CLI" "http://$RC4:8080/" -A good/in4
get_blocked "$CLI" "http://$RC4:8080/" -A bad/in4
get_ok "$CLI" "http://[$RC6]:8080/" -A good/in6
get_blocked "$CLI" "http://[$RC6]:8080/" -A bad/in6
step "OUTPUT: router -> server"
get_ok - "http://$S4/" -A good/out4
get_blocked - "http://$S4/" -A bad/out4
get_ok - "http://[$S6]/" -A good/out6
get_blocked - "http://[$S6]/" -A bad/out6
got=$(luaval "seen_from('$C4')")
case $got in "4>$RC4:good/in4,4>$RC4:bad/in4"*) ;; *) fail "INPUT v4 agents seen: $got" ;; esac
got=$(luaval "seen_from('$C6')")
case $got in "6>$RC6:good/in6,6>$RC6:bad/in6"*) ;; *) fail "INPUT v6 agents seen: $got" ;; esac
got=$(luaval "seen_from('$RS4')")
case $got in "4>$S4:good/out4,4>$S4:bad/out4"*) ;; *) fail "OUTPUT v4 agents seen: $got" ;; esac
got=$(luaval "seen_from('$RS6')")
case $got in "6>$S6:good/out6,6>$S6:bad/out6"*) ;; *) fail "OUTPUT v6 agents seen: $got" ;; esac
for ipt in iptables ip6tables; do
    for chain in INPUT OUTPUT; do
        [ "$(pkts $ipt $chain 1)" -ge 1 ] || fail "$ipt $chain: nothing dropped"
    done
done
stats f
assert_eq "$ST_bad_results" 0 "bad_results"
