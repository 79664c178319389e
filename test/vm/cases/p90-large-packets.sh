#!/bin/sh
# Large and non-linear packets: an HTTP request with a 20 KB header through the router, as GSO
# packets (the client's TSO/GSO on: veth hands them over whole), as GRO packets (client TSO/GSO
# off, GRO on the router's veth, where the kernel can), and from the router itself (OUTPUT, GSO).
# For every packet Lua checks #pkt = payloadoff + payloadlen, unpack of the destination port,
# payload()/bytes()/tostring() consistency, empty reads past the end and "data too short"
# errors; the payloads, put back together by sequence number, are exactly the request curl sent
# (ending in the marker). A packet kept past its call raises "packet used outside its call".
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/big.lua <<'EOF'
function reset()
	n, max_len, problems, segs, isn = 0, 0, {}, {}, nil
end
reset()

local function note(msg)
	if #problems < 10 then problems[#problems + 1] = msg end
end

function inspect(pkt)
	n = n + 1
	local len = #pkt
	if len > max_len then max_len = len end
	if len ~= pkt.payloadoff + pkt.payloadlen then note("#pkt " .. len .. " ~= payloadoff + payloadlen") end
	local dport, nextpos = pkt:unpack(">I2", pkt.l4off + 3)
	if dport ~= pkt.dport then note("unpack dport " .. tostring(dport)) end
	if nextpos ~= pkt.l4off + 5 then note("unpack next position " .. tostring(nextpos)) end
	if pkt:bytes(len + 1, len + 10) ~= "" then note("bytes past the end") end
	if pkt:payload(pkt.payloadlen + 1) ~= "" then note("payload past the end") end
	local ok, err = pcall(pkt.unpack, pkt, ">I4", len)
	if ok or not tostring(err):find("data too short", 1, true) then
		note("unpack at #pkt: " .. tostring(err))
	end
	ok, err = pcall(pkt.unpack, pkt, "B", len + 2)
	if ok or not tostring(err):find("out of packet", 1, true) then
		note("unpack at #pkt + 2: " .. tostring(err))
	end
	local p = pkt:payload()
	if #p ~= pkt.payloadlen then note("#payload " .. #p) end
	if pkt:payload(-11) ~= p:sub(-11) then note("payload(-11)") end
	local all = tostring(pkt)
	if #all ~= len or all ~= pkt:bytes() or all:sub(pkt.payloadoff + 1) ~= p then
		note("tostring/bytes/payload disagree")
	end
	if pkt:bytes(1, 1):byte() >> 4 ~= pkt.family then note("IP version") end
	local seq = pkt:unpack(">I4", pkt.l4off + 5)
	segs[seq] = p
	if not isn or seq < isn then isn = seq end
	saved = pkt
	return false
end

-- the client's byte stream, put back together by sequence number
function stream()
	local t, seq = {}, isn
	while seq and segs[seq] do
		t[#t + 1] = segs[seq]
		seq = seq + #segs[seq]
	end
	return table.concat(t)
end

-- checks the stream against the request; returns "ok" or what is wrong
function verdict(host)
	if #problems > 0 then return table.concat(problems, "; ") end
	local s = stream()
	local want = "\r\nX-Big: " .. string.rep("x", 20000) .. "ENDMARK\r\n\r\n"
	if s:sub(1, 16) ~= "GET / HTTP/1.1\r\n" then return "stream starts with " .. s:sub(1, 16) end
	if s:sub(-#want) ~= want then return "stream (" .. #s .. " bytes) does not end with the header" end
	if not s:find("\r\nHost: " .. host .. "\r\n", 1, true) then return "no Host" end
	return "ok"
end
EOF
run nfluactl create big --maxalloc 8M --budget 10000000
run nfluactl execute big /tmp/big.lua
BIGH="X-Big: $(printf '%020000d' 0 | tr 0 x)ENDMARK"

# check WHAT HOST: the Lua checks of the last request; prints the largest packet
check() {
    run nfluactl execute big -e "return verdict('$2'), n, max_len"
    echo "    $1: $OUT"
    assert_eq "$(printf '%s' "$OUT" | cut -f1)" ok "$1"
    MAXLEN=$(printf '%s' "$OUT" | cut -f3)
    step "$1: a packet kept past its call"
    expect_fail nfluactl execute big -e 'return saved.dport'
    assert_contains "$ERR" "packet used outside its call" "$1: saved.dport"
    run nfluactl execute big -e 'return pcall(function() return #saved end)'
    assert_contains "$OUT" "packet used outside its call" "$1: #saved"
    run nfluactl execute big -e 'return pcall(function() return saved:payload() end)'
    assert_contains "$OUT" "packet used outside its call" "$1: saved:payload()"
    run nfluactl execute big -e 'reset()'
}

net_pair 1 1
serve "$SRV" 80
run iptables -A FORWARD -p tcp --dport 80 -m lua --tcp-payload --state big --function inspect
run iptables -A OUTPUT -p tcp --dport 80 -m lua --tcp-payload --state big --function inspect

step "FORWARD, GSO packets from the client"
get_ok "$CLI" "http://$S4/" -H "$BIGH"
check "FORWARD GSO" "$S4"
[ "$MAXLEN" -gt 1500 ] || fail "FORWARD GSO: largest packet $MAXLEN bytes: no GSO packet seen"

step "FORWARD, GRO on the router"
run nsdo "$CLI" ethtool -K eth0 tso off gso off
if ethtool -K rc1 gro on 2>/dev/null; then
    ethtool -k rc1 | grep -e generic-receive-offload -e rx-gro
else
    echo "    (ethtool -K rc1 gro on failed: no GRO on this kernel's veth)"
fi
get_ok "$CLI" "http://$S4/" -H "$BIGH"
check "FORWARD GRO" "$S4"
echo "    largest packet with GRO: $MAXLEN bytes"

step "OUTPUT, GSO packets from the router"
get_ok - "http://$S4/" -H "$BIGH"
check "OUTPUT GSO" "$S4"
[ "$MAXLEN" -gt 1500 ] || fail "OUTPUT GSO: largest packet $MAXLEN bytes: no GSO packet seen"

step "IPv6 FORWARD, GSO packets"
run nsdo "$CLI" ethtool -K eth0 tso on gso on
run ip6tables -A FORWARD -p tcp --dport 80 -m lua --tcp-payload --state big --function inspect
get_ok "$CLI" "http://[$S6]/" -H "$BIGH"
check "IPv6 FORWARD GSO" "[$S6]"
[ "$MAXLEN" -gt 1500 ] || fail "IPv6 FORWARD GSO: largest packet $MAXLEN bytes"

stats big
# the four "return saved.dport" above, and nothing on the packet path
assert_eq "$ST_errors" 4 "errors"
assert_eq "$ST_bad_results" 0 "bad_results"
