-- dns_qname.lua: block DNS queries by the name asked for.
--
-- Match function: dns_qname_match(pkt) -> true for a DNS query (UDP or TCP to port 53, QR=0,
-- opcode QUERY, QDCOUNT >= 1) whose first question's QNAME is listed. Names compare
-- case-insensitively (RFC 4343: ASCII letters only, as here); entries:
--   "example.com"     exactly that name
--   "*.example.com"   any name below example.com (not example.com itself: list both)
-- Configure with: dns_qname.configure{ "example.com", "*.example.com" }
-- Rule: iptables -A FORWARD -p udp --dport 53 -m lua --state dns --function dns_qname_match -j DROP
--
-- The QNAME is read label by label, each length checked against the packet; a compression
-- pointer (top bits 11) or a reserved label type (01, 10) in a question, a name longer than 255
-- bytes or a question past the end of the packet give false. Labels holding a dot or NUL byte
-- cannot be spelled in the list and never match by accident.

dns_qname = dns_qname or { exact = {}, suffix = {} }

function dns_qname.configure(entries)
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
	dns_qname.exact, dns_qname.suffix = exact, suffix
	return n
end

-- LABELS: array of lower-case labels; checks "a.b.c", then "*.b.c", "*.c"
function dns_qname.listed(labels)
	local name = table.concat(labels, ".")
	if dns_qname.exact[name] then
		return true
	end
	for i = 2, #labels do
		if dns_qname.suffix[table.concat(labels, ".", i)] then
			return true
		end
	end
	return false
end

-- The labels of the first question (lower case) of the DNS message in PKT whose byte i
-- (1-based) is packet byte b + i, N bytes long; or nil. Reads the header fields and label
-- lengths with pkt:unpack where they lie (no copy of the message) and stops at the first byte
-- that rules the packet out; only the labels are copied.
function dns_qname.question(pkt, b, n)
	if n < 17 then		-- 12-byte header, root name, type, class
		return nil
	end
	local unpack = pkt.unpack
	local _, flags, _, qdcount = unpack(pkt, ">I2BBI2", b + 1)
	if flags >= 128 or (flags // 8) % 16 ~= 0 or qdcount == 0 then	-- QR set (a response),
		return nil						-- not QUERY, no question
	end
	local labels, p, total = {}, 13, 0
	while true do
		if p > n then
			return nil
		end
		local len = unpack(pkt, "B", b + p)
		if len == 0 then
			break
		end
		if len >= 64 then		-- 0xC0 pointer, or the reserved 0x40/0x80 types
			return nil
		end
		total = total + len + 1
		if total > 255 or p + len > n then
			return nil
		end
		local label = pkt:bytes(b + p + 1, b + p + len)
		if label:find("[\0%.]") then
			return nil
		end
		labels[#labels + 1] = label:lower()
		p = p + 1 + len
	end
	if p + 4 > n or #labels == 0 then		-- QTYPE and QCLASS must follow
		return nil
	end
	return labels
end

function dns_qname_match(pkt)
	local b, n = pkt.payloadoff, pkt.payloadlen
	if pkt.protocol == 6 and pkt.dport == 53 then
		b, n = b + 2, n - 2			-- DNS over TCP: a 16-bit length first
	elseif pkt.protocol ~= 17 or pkt.dport ~= 53 then
		return false
	end
	if n > 512 then
		n = 512
	end
	local labels = dns_qname.question(pkt, b, n)
	if not labels then
		return false
	end
	return dns_qname.listed(labels)
end
