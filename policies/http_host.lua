-- http_host.lua: block HTTP requests by Host header (domain blocklist).
--
-- Match function: http_host_match(pkt) -> true when the packet starts an HTTP/1.x request
-- whose Host (lower-cased, port and a trailing dot removed) is listed. Entries:
--   "example.com"     exactly that name
--   "*.example.com"   any name below example.com (not example.com itself: list both)
-- Configure with: http_host.configure{ "example.com", "*.example.com" }
-- Rule: iptables -A FORWARD -p tcp --dport 80 -m lua --state web --function http_host_match
--       --tcp-payload -j DROP

http_host = http_host or { exact = {}, suffix = {} }

local METHODS = {
	GET = true, POST = true, HEAD = true, PUT = true, DELETE = true,
	OPTIONS = true, PATCH = true, CONNECT = true, TRACE = true,
}

-- entries: array of "name" or "*.name"; returns how many were taken
function http_host.configure(entries)
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
	http_host.exact, http_host.suffix = exact, suffix
	return n
end

-- is NAME (lower case, no trailing dot) listed? One table lookup per label.
function http_host.listed(name)
	if http_host.exact[name] then
		return true
	end
	local pos = name:find(".", 1, true)
	while pos do
		if http_host.suffix[name:sub(pos + 1)] then
			return true
		end
		pos = name:find(".", pos + 1, true)
	end
	return false
end

local function host_of(pkt)
	local data = pkt:payload(1, 4096)
	local method = data:match("^(%u+) [^ \r\n]+ HTTP/1%.[01]\r\n")
	if not method or not METHODS[method] then
		return nil
	end
	local stop = data:find("\r\n\r\n", 1, true)
	if stop then
		data = data:sub(1, stop + 1)
	end
	local low = data:lower()
	local s, e = low:find("\r\nhost:", 1, true)
	if not s then
		return nil
	end
	local eol = low:find("\r\n", e + 1, true) or (#low + 1)
	local host = low:sub(e + 1, eol - 1):match("^[ \t]*(.-)[ \t]*$")
	if host:sub(1, 1) == "[" then
		host = host:match("^%[([^%]]*)%]") or host	-- an IPv6 literal
	else
		host = host:gsub(":%d*$", "")
	end
	return (host:gsub("%.$", ""))
end

function http_host_match(pkt)
	local host = host_of(pkt)
	if not host or #host == 0 then
		return false
	end
	return http_host.listed(host)
end
