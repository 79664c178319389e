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

function tls_sni.listed(name)
	if tls_sni.exact[name] then
		return true
	end
	local pos = name:find(".", 1, true)
	while pos do
		if tls_sni.suffix[name:sub(pos + 1)] then
			return true
		end
		pos = name:find(".", pos + 1, true)
	end
	return false
end

-- big-endian 16-bit value at i, or nil past the end
local function u16(s, i)
	local a, b = s:byte(i, i + 1)
	if not b then
		return nil
	end
	return a * 256 + b
end

-- the host_name of a ClientHello in S (a TCP payload), or nil
function tls_sni.server_name(s)
	local n = #s
	-- record: type 22 (handshake), version 3.x, 16-bit length
	if n < 9 or s:byte(1) ~= 22 or s:byte(2) ~= 3 then
		return nil
	end
	local reclen = u16(s, 4)
	if reclen < 4 then
		return nil
	end
	local stop = 5 + reclen			-- one past the record
	if stop > n + 1 then
		stop = n + 1				-- the rest may be in later segments
	end
	-- handshake: type 1 (ClientHello), 24-bit length
	if s:byte(6) ~= 1 then
		return nil
	end
	local h1, h2, h3 = s:byte(7, 9)
	local hend = 10 + h1 * 65536 + h2 * 256 + h3
	if hend < stop then
		stop = hend
	end
	local p = 10 + 2 + 32				-- client_version, random
	if p >= stop then
		return nil
	end
	local sid = s:byte(p)			-- session id
	if sid > 32 then
		return nil
	end
	p = p + 1 + sid
	local cs = u16(s, p)				-- cipher suites
	if not cs or cs < 2 or cs % 2 ~= 0 then
		return nil
	end
	p = p + 2 + cs
	if p >= stop then
		return nil
	end
	local comp = s:byte(p)			-- compression methods
	if comp < 1 then
		return nil
	end
	p = p + 1 + comp
	local extlen = u16(s, p)			-- extensions
	if not extlen then
		return nil
	end
	p = p + 2
	local eend = p + extlen
	if eend < stop then
		stop = eend
	end
	while p + 4 <= stop do
		local etype, elen = u16(s, p), u16(s, p + 2)
		p = p + 4
		if etype == 0 then
			-- server_name: list length, then (type, length, name) entries
			local lend = p + 2 + (u16(s, p) or 0)
			if lend > p + elen then
				return nil
			end
			local q = p + 2
			while q + 3 <= lend and q + 3 <= stop do
				local ntype, nlen = s:byte(q), u16(s, q + 1)
				q = q + 3
				if q + nlen > lend or q + nlen > stop then
					return nil
				end
				if ntype == 0 then
					if nlen == 0 or nlen > 255 then
						return nil
					end
					return s:sub(q, q + nlen - 1)
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
	local name = tls_sni.server_name(pkt:payload(1, 16384))
	if not name then
		return false
	end
	name = name:lower():gsub("%.$", "")
	return tls_sni.listed(name)
end

function tls_sni_verdict(pkt)
	if tls_sni_match(pkt) then
		return "reset"
	end
	return "continue"
end
