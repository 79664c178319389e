-- http_ua.lua: block HTTP requests by User-Agent.
--
-- Match function: http_ua_match(pkt) -> true when the packet is the start of an HTTP/1.x
-- request whose User-Agent header contains one of the configured words (case-insensitive,
-- plain substring, no patterns). Configure with:
--   http_ua.configure{ "curl/", "sqlmap", "python-requests" }
-- Rule: iptables -A FORWARD -p tcp --dport 80 -m lua --state web --function http_ua_match
--       --tcp-payload -j DROP
-- The packet is hostile: every read is bounds-checked, so short or random payloads give false.

http_ua = http_ua or { words = {} }

local METHODS = {
	GET = true, POST = true, HEAD = true, PUT = true, DELETE = true,
	OPTIONS = true, PATCH = true, CONNECT = true, TRACE = true,
}

-- words: an array of strings; matched as lower-case substrings of the User-Agent value
function http_ua.configure(words)
	local list = {}
	for _, w in ipairs(words) do
		if type(w) == "string" and #w > 0 then
			list[#list + 1] = w:lower()
		end
	end
	http_ua.words = list
	return #list
end

-- the request head (up to the blank line or the end of this packet), or nil if the payload
-- does not start like an HTTP/1.x request
local function request_head(pkt)
	local data = pkt:payload(1, 4096)
	local method = data:match("^(%u+) [^ \r\n]+ HTTP/1%.[01]\r\n")
	if not method or not METHODS[method] then
		return nil
	end
	local stop = data:find("\r\n\r\n", 1, true)
	if stop then
		data = data:sub(1, stop + 1)
	end
	return data
end

-- the value of header NAME (lower case) in HEAD, trimmed; nil when absent
function http_ua.header(head, name)
	local low = head:lower()
	local key = "\r\n" .. name .. ":"
	local s = low:find(key, 1, true)
	if not s then
		return nil
	end
	local from = s + #key
	local stop = head:find("\r\n", from, true) or (#head + 1)
	return (head:sub(from, stop - 1):match("^[ \t]*(.-)[ \t]*$"))
end

function http_ua_match(pkt)
	local head = request_head(pkt)
	if not head then
		return false
	end
	local ua = http_ua.header(head, "user-agent")
	if not ua then
		return false
	end
	ua = ua:lower()
	for _, w in ipairs(http_ua.words) do
		if ua:find(w, 1, true) then
			return true
		end
	end
	return false
end
