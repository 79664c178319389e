-- tls_sni.lua: block TLS connections by the server name (SNI) of the ClientHello.
--
-- Match function: tls_sni_match(pkt) -> true when the TCP payload begins a TLS handshake
-- record holding a ClientHello (TLS 1.0 to 1.3: 1.3 still sends a 1.2-style ClientHello) whose
-- server_name extension carries a listed host_name.
-- Target function: tls_sni_verdict(pkt) -> "reset" for a listed name, else "continue".
-- Entries, lower-cased: "example.com" exactly; "*.example.com" any name below it.
-- Configure with: tls_sni.configure{ "example.com", "*.example.com" }
-- Rule: iptables -A FORWARD -p tcp --dport 443 -m lua --state tls --function tls_sni_match
--       --tcp-payload -j REJECT --reject-with tcp-reset
--
-- Parsed, each length checked against the bytes present: record header (type 22, version
-- 3.x, length), handshake header (type 1, 24-bit length), client_version, random, session id
-- (at most 32), cipher suites (even, non-empty), compression methods (non-empty),
-- extensions (each length within the block), server_name list (type 0 = host_name). A name is
-- read only if it lies inside this packet; a ClientHello split before its SNI does not match.
-- Encrypted ClientHello (ECH) hides the real name: only the outer (public) name is seen.

tls_sni = tls_sni or { exact = {}, suffix = {} }

function tls_sni.configure(entries)
	local exact, suffix, n = {}, {}, 0
	for _, e in ipairs(entries) do
		if type(e) == "string" then
			e = e:lower():gsub("%.$", "")
			if e:sub(1, 2) == "*." and #e > 2 then
				suffix[e:sub(3)] = true
				n = n + 1
			elseif #e > 0 then
				exact[e] = true
				n = n + 1
			end
		end
	end
	tls_sni.exact, tls_sni.suffix = exact, suffix
	return n
end

-- NAME: lower case, no final dot. One table lookup for an exact entry; the suffixes only when
-- there are any (each dot position makes a string).
function tls_sni.listed(name)
	if tls_sni.exact[name] then
		return true
	end
	local suffix = tls_sni.suffix
	if next(suffix) == nil then
		return false
	end
	local pos = name:find(".", 1, true)
	while pos do
		if suffix[name:sub(pos + 1)] then
			return true
		end
		pos = name:find(".", pos + 1, true)
	end
	return false
end

-- The host_name of the ClientHello that begins PKT's TCP payload, or nil. Reads the few bytes
-- it needs with pkt:unpack at computed offsets (no copy of the payload) and stops at the first
-- byte that rules the packet out; only the name itself is copied. Positions below are 1-based
-- in the payload; payload byte i is packet byte b + i.
function tls_sni.server_name(pkt)
	local n = pkt.payloadlen
	if n < 9 then
		return nil
	end
	if n > 16384 then
		n = 16384				-- a record's most: the rest is another record
	end
	local unpack, b = pkt.unpack, pkt.payloadoff
	-- record: type 22 (handshake), version 3.x, 16-bit length; handshake: type 1
	-- (ClientHello), 24-bit length
	local rtype, major, _, reclen, htype, hlen = unpack(pkt, ">BBBI2BI3", b + 1)
	if rtype ~= 22 or major ~= 3 or reclen < 4 or htype ~= 1 then
		return nil
	end
	local stop = 5 + reclen			-- one past the record
	if stop > n + 1 then
		stop = n + 1				-- the rest may be in later segments
	end
	if 10 + hlen < stop then
		stop = 10 + hlen
	end
	local p = 10 + 2 + 32				-- client_version, random
	if p >= stop then
		return nil
	end
	local sid = unpack(pkt, "B", b + p)		-- session id
	if sid > 32 then
		return nil
	end
	p = p + 1 + sid
	if p + 1 > n then
		return nil
	end
	local cs = unpack(pkt, ">I2", b + p)	-- cipher suites
	if cs < 2 or cs % 2 ~= 0 then
		return nil
	end
	p = p + 2 + cs
	if p >= stop then
		return nil
	end
	local comp = unpack(pkt, "B", b + p)	-- compression methods
	if comp < 1 then
		return nil
	end
	p = p + 1 + comp
	if p + 1 > n then
		return nil
	end
	local eend = p + 2 + unpack(pkt, ">I2", b + p)	-- extensions
	p = p + 2
	if eend < stop then
		stop = eend
	end
	while p + 4 <= stop do
		local etype, elen = unpack(pkt, ">I2I2", b + p)
		p = p + 4
		if etype == 0 then
			-- server_name: list length, then (type, length, name) entries
			local lend = p + 2 + (p + 1 <= n and unpack(pkt, ">I2", b + p) or 0)
			if lend > p + elen then
				return nil
			end
			local q = p + 2
			while q + 3 <= lend and q + 3 <= stop do
				local ntype, nlen = unpack(pkt, ">BI2", b + q)
				q = q + 3
				if q + nlen > lend or q + nlen > stop then
					return nil
				end
				if ntype == 0 then
					if nlen == 0 or nlen > 255 then
						return nil
					end
					return pkt:payload(q, q + nlen - 1)
				end
				q = q + nlen
			end
			return nil
		end
		p = p + elen
	end
	return nil
end

function tls_sni_match(pkt)
	local name = tls_sni.server_name(pkt)
	if not name then
		return false
	end
	name = name:lower()
	if name:byte(-1) == 46 then			-- a final dot
		name = name:sub(1, -2)
	end
	return tls_sni.listed(name)
end

function tls_sni_verdict(pkt)
	if tls_sni_match(pkt) then
		return "reset"
	end
	return "continue"
end
