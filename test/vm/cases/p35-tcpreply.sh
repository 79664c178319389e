#!/bin/sh
# pkt:tcpreply(msg): the router answers an HTTP request itself (a block page) and drops it.
# curl must accept the answer as the server's (sequence numbers, checksums, FIN right), over
# IPv4 and IPv6, in FORWARD (match and target) and INPUT, with iptables-legacy and -nft. The
# reply passes the router's OUTPUT chain, whose rule calls the same state: sending under the
# state's lock would deadlock there. An error after tcpreply voids the reply (the rule fails
# open); refusals (SYN, PREROUTING, too long, twice) return fail and why.
# timeout: 240
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/r.lua <<'EOF'
PAGE = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n" ..
	"Connection: close\r\n\r\nblocked by nflua\n"
REPLIES, OUT_SEEN, WHY = 0, 0, {}

local function request(pkt)
	return pkt:payload(1, 64):match("^GET (/%S*)")
end

-- match: answer requests for /blocked, then the rule drops them
function block(pkt)
	if request(pkt) ~= "/blocked" then return false end
	assert(pkt:tcpreply(PAGE))
	REPLIES = REPLIES + 1
	return true
end

-- target: the same, with a verdict
function block_t(pkt)
	if request(pkt) ~= "/blocked" then return "continue" end
	assert(pkt:tcpreply(PAGE))
	REPLIES = REPLIES + 1
	return "drop"
end

-- an error after the reply was built: no reply is sent, the rule does not match
function broken(pkt)
	if request(pkt) ~= "/index.html" then return false end
	pkt:tcpreply(PAGE)
	error("broken after tcpreply")
end

-- records why tcpreply refuses, per kind of packet; the error at the end voids the replies it
-- did build, so the connection goes on
function probe(pkt)
	local ok, why = pkt:tcpreply("x")
	-- FIN segments apart: the FINs of earlier steps' connections, which the server never
	-- acknowledges (it never saw their requests), are retransmitted into this rule
	local fin = pkt:unpack("B", pkt.l4off + 14) & 1 == 1
	local key = fin and "fin" or pkt:payload() == "" and "empty" or "data"
	if pkt:payload(1, 4) == "GET " then
		local ok2, why2 = pkt:tcpreply("y")
		WHY.twice = tostring(ok2) .. ": " .. tostring(why2)
		local ok3, why3 = pkt:tcpreply(("z"):rep(1221))
		WHY.long = tostring(ok3) .. ": " .. tostring(why3)
	end
	WHY[key] = WHY[key] or (tostring(ok) .. ": " .. tostring(why))
	error("probe only")
end

function syn(pkt)
	local ok, why = pkt:tcpreply("x")
	WHY.syn = WHY.syn or (tostring(ok) .. ": " .. tostring(why))
	return false
end

-- the OUTPUT chain's rule: sees the replies leaving the router
function out_seen(pkt)
	OUT_SEEN = OUT_SEEN + 1
	return false
end
EOF
run nfluactl create r
run nfluactl execute r /tmp/r.lua

lua_get() {
    run nfluactl execute r -e "return $1"
    printf '%s' "$OUT"
}

# blocked_page NS URL: the router's page (curl accepted the reply as the server's: sequence
# numbers, checksums and FIN right). No timing is asserted: on a loaded machine the reply may
# come late, or after the client retransmitted the request.
blocked_page() {
    fetch "$1" 10 -i "$2"
    [ "$RC" = 0 ] || fail "curl $2 from $1: exit $RC ($CERR), expected the router's page"
    assert_contains "$BODY" "403 Forbidden" "status line from the router for $2"
    assert_contains "$BODY" "blocked by nflua" "body from the router for $2"
}

n=0
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    ip6t=ip6tables-${ipt#iptables-}
    net_pair "$n" "$n"
    serve "$SRV" 80
    for t in "$ipt" "$ip6t"; do
        run "$t" -A OUTPUT -p tcp --sport 80 -m lua --state r --function out_seen
    done

    step "$ipt: match rule in FORWARD, IPv4 and IPv6"
    for t in "$ipt" "$ip6t"; do
        run "$t" -A FORWARD -p tcp --dport 80 -m lua --state r --function block -j DROP
    done
    before=$(lua_get REPLIES) seen=$(lua_get OUT_SEEN)
    blocked_page "$CLI" "http://$S4/blocked"
    blocked_page "$CLI" "http://[$S6]/blocked"
    get_ok "$CLI" "http://$S4/"
    get_ok "$CLI" "http://[$S6]/"
    [ "$(lua_get REPLIES)" -ge "$((before + 2))" ] || fail "$ipt: replies built: $(lua_get REPLIES), expected $before + 2"
    [ "$(lua_get OUT_SEEN)" -ge "$((seen + 2))" ] || fail "$ipt: the replies did not pass OUTPUT"
    assert_eq "$(pkts "$ipt" FORWARD 1)" 1 "$ipt: packets the rule dropped (the request only)"
    for t in "$ipt" "$ip6t"; do run "$t" -F FORWARD; done

    step "$ipt: target rule in FORWARD"
    run "$ipt" -A FORWARD -p tcp --dport 80 -j LUA --state r --function block_t
    blocked_page "$CLI" "http://$S4/blocked"
    get_ok "$CLI" "http://$S4/"
    run "$ipt" -F FORWARD

    step "$ipt: an error after tcpreply voids the reply"
    stats r; err0=$ST_errors
    run "$ipt" -A FORWARD -p tcp --dport 80 -m lua --state r --function broken -j DROP
    get_ok "$CLI" "http://$S4/index.html"
    stats r
    assert_eq "$((ST_errors - err0))" 1 "$ipt: errors counted"
    run "$ipt" -F FORWARD

    step "$ipt: INPUT (the router serves)"
    port=$((8080 + n))
    serve - "$port"
    run "$ipt" -A INPUT -p tcp --dport "$port" -m lua --state r --function block -j DROP
    blocked_page "$CLI" "http://$RC4:$port/blocked"
    get_ok "$CLI" "http://$RC4:$port/"
    run "$ipt" -F INPUT
    for t in "$ipt" "$ip6t"; do run "$t" -F OUTPUT; done
done

step "refusals: SYN, twice, too long; replying to a bare ACK is allowed"
run nfluactl execute r -e 'WHY = {}'
run iptables -A FORWARD -p tcp --dport 80 --syn -m lua --state r --function syn
run iptables -A FORWARD -p tcp --dport 80 ! --syn -m lua --state r --function probe
get_ok "$CLI" "http://$S4/"
run iptables -F FORWARD
assert_contains "$(lua_get WHY.syn)" "nil: the connection is not established" "tcpreply to a SYN"
assert_contains "$(lua_get WHY.twice)" "nil: this packet already has a reply" "a second tcpreply"
assert_contains "$(lua_get WHY.long)" "nil: reply longer than 1220 bytes" "a 1221-byte reply"
assert_eq "$(lua_get WHY.data)" "true: nil" "tcpreply to a request"
assert_eq "$(lua_get WHY.empty)" "true: nil" "tcpreply to a bare ACK"

step "refusal: PREROUTING (no route yet)"
run nfluactl execute r -e 'WHY = {}'
run iptables -t mangle -A PREROUTING -p tcp --dport 80 --syn -m lua --state r --function syn
get_ok "$CLI" "http://$S4/"
run iptables -t mangle -F PREROUTING
assert_contains "$(lua_get WHY.syn)" "nil: the packet has no route yet" "tcpreply in PREROUTING"

run nfluactl destroy r
