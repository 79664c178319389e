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

-- the labels of the first question of the DNS message M (lower case), or nil
function dns_qname.question(m)
	local n = #m
	if n < 17 then		-- 12-byte header, root name, type, class
		return nil
	end
	local flags = m:byte(3)
	if flags >= 128 or (flags // 8) % 16 ~= 0 then	-- QR set (a response), or not QUERY
		return nil
	end
	local qd1, qd2 = m:byte(5, 6)
	if qd1 == 0 and qd2 == 0 then
		return nil
	end
	local labels, p, total = {}, 13, 0
	while true do
		local len = m:byte(p)
		if not len then
			return nil
		end
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
		local label = m:sub(p + 1, p + len)
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
	local m
	if pkt.protocol == 17 and pkt.dport == 53 then
		m = pkt:payload(1, 512)
	elseif pkt.protocol == 6 and pkt.dport == 53 then
		m = pkt:payload(3, 514)		-- DNS over TCP: a 16-bit length first
	else
		return false
	end
	local labels = dns_qname.question(m)
	if not labels then
		return false
	end
	return dns_qname.listed(labels)
end
