#!/bin/sh
# TLS SNI blocklist on the router: a Lua function parses the server_name extension of the
# ClientHello (TLS record header, handshake header, session id, cipher suites, compression,
# extensions) from pkt:payload(); openssl s_client through the router to openssl s_server
# completes the handshake for an allowed name and not for a blocked one, TLS 1.2 and 1.3.
# timeout: 120
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/tls.lua <<'EOF'
local blocked = { ["blocked.example"] = true }
seen = {}

local function u16(s, i) return (s:byte(i) or 0) * 256 + (s:byte(i + 1) or 0) end

-- the server_name of a ClientHello that starts at the start of the payload, or nil
function sni_of(p)
	if #p < 6 or p:byte(1) ~= 22 or p:byte(6) ~= 1 then return nil end	-- handshake, ClientHello
	local pos = 6 + 4 + 2 + 32		-- handshake header, client_version, random
	if pos > #p then return nil end
	pos = pos + 1 + p:byte(pos)		-- session id
	pos = pos + 2 + u16(p, pos)		-- cipher suites
	if pos > #p then return nil end
	pos = pos + 1 + p:byte(pos)		-- compression methods
	local ext_end = pos + 2 + u16(p, pos)
	pos = pos + 2
	if ext_end - 1 > #p then return nil end
	while pos + 4 <= ext_end do
		local etype, elen = u16(p, pos), u16(p, pos + 2)
		pos = pos + 4
		if etype == 0 then		-- server_name: list length, name type, name length, name
			if p:byte(pos + 2) ~= 0 then return nil end
			return p:sub(pos + 5, pos + 4 + u16(p, pos + 3))
		end
		pos = pos + elen
	end
	return nil
end

function blocked_sni(pkt)
	local name = sni_of(pkt:payload())
	if not name then return false end
	seen[#seen + 1] = pkt.dport .. "=" .. name
	return blocked[name:lower()] == true
end

-- how many ClientHellos for NAME to PORT were seen
function count(port, name)
	local n = 0
	for _, s in ipairs(seen) do
		if s == port .. "=" .. name then n = n + 1 end
	end
	return n
end
EOF
run nfluactl create tls
run nfluactl execute tls /tmp/tls.lua

step "certificate"
run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=x \
    -days 1 -keyout /tmp/key.pem -out /tmp/cert.pem

net_pair 1 1
# one s_server per TLS version: s_server serves one connection at a time, and a blocked
# connection keeps it waiting for a ClientHello that never comes
for port in 4412 4413; do
    nsdo "$SRV" openssl s_server -accept "$port" -cert /tmp/cert.pem -key /tmp/key.pem -quiet \
        </dev/null >/tmp/s_server.$port.log 2>&1 &
    wait_listen "$SRV" "$port"
done
run iptables -A FORWARD -p tcp -m multiport --dports 4412,4413 -m lua --tcp-payload \
    --state tls --function blocked_sni -j DROP

# hello TLSVER PORT NAME: s_client through the router; sets RC and SOUT
hello() {
    RC=0
    SOUT=$(echo Q | nsdo "$CLI" timeout 3 openssl s_client -connect "$S4:$2" -servername "$3" \
        "-$1" -brief 2>&1) || RC=$?
}

for v in tls1_2:4412 tls1_3:4413; do
    ver=${v%:*} port=${v#*:}
    step "$ver: allowed.example completes the handshake"
    hello "$ver" "$port" allowed.example
    echo "$SOUT"
    [ "$RC" = 0 ] || fail "$ver allowed.example: s_client exit $RC"
    assert_contains "$SOUT" "CONNECTION ESTABLISHED" "$ver allowed.example"
    want=TLSv1.2
    [ "$ver" = tls1_2 ] || want=TLSv1.3
    assert_contains "$SOUT" "Protocol version: $want" "$ver allowed.example: protocol"
    run nfluactl execute tls -e "return count($port, 'allowed.example'), count($port, 'blocked.example')"
    assert_eq "$OUT" "$(printf '1\t0')" "$ver: ClientHellos seen for allowed, blocked"

    step "$ver: blocked.example does not"
    hello "$ver" "$port" blocked.example
    echo "$SOUT"
    [ "$RC" != 0 ] || fail "$ver blocked.example: s_client exit 0"
    case $SOUT in *"CONNECTION ESTABLISHED"*) fail "$ver blocked.example: handshake completed" ;; esac
    run nfluactl execute tls -e "return count($port, 'allowed.example'), count($port, 'blocked.example')"
    case $OUT in "1	"[1-9]*) ;; *) fail "$ver: ClientHellos seen for allowed, blocked: $OUT" ;; esac
done

net_cut 1
run iptables -L FORWARD -v -x -n
echo "$OUT"
run nfluactl execute tls -e 'return table.concat(seen, ",")'
echo "seen: $OUT"
# each allowed handshake once, then a blocked ClientHello and its retransmissions
case $OUT in
4412=allowed.example,4412=blocked.example*4413=allowed.example,*4413=blocked.example*) ;;
*) fail "server names seen: $OUT" ;;
esac
assert_eq "$(echo "$OUT" | tr , '\n' | grep -vc -e '^441[23]=allowed.example$' -e '^441[23]=blocked.example$')" 0 \
    "other names seen"
assert_eq "$(pkts iptables FORWARD 1)" "$(counter tls matches)" "dropped packets = matches"
assert_eq "$(counter tls errors)" 0 "errors"
assert_eq "$(counter tls bad_results)" 0 "bad_results"
run nfluactl execute tls -e "return count(4412, 'blocked.example') + count(4413, 'blocked.example')"
assert_eq "$OUT" "$(counter tls matches)" "blocked ClientHellos seen = matches"
