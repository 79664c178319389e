#!/bin/sh
# The demo, in the QEMU router: a Lua state in the kernel, used from the router-side nfluactl.
# (The iptables rule part joins when the packet path lands.)
set -eu
say() { printf '\n### %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "nflua.ko is loaded; the router-side tool talks to /dev/nflua"
show nfluactl version

say "Create a state with a 1 MiB memory cap and a 100000-instruction budget per call"
show nfluactl create web --maxalloc 1M --budget 100000
show nfluactl list

say "Load a User-Agent blocklist filter into it"
cat > /tmp/check_ua.lua <<'LUA'
local blocked = { "curl", "sqlmap", "nikto" }

function check_ua(request)
	local ua = request:match("\r\n[Uu]ser%-[Aa]gent: *([^\r\n]*)")
	if not ua then return false end
	ua = ua:lower()
	for _, word in ipairs(blocked) do
		if ua:find(word, 1, true) then return true end
	end
	return false
end

return "loaded " .. #blocked .. " patterns"
LUA
cat /tmp/check_ua.lua
show nfluactl execute web /tmp/check_ua.lua

say "Call it from user space (iptables will call it per packet)"
show nfluactl execute web -e 'return check_ua("GET / HTTP/1.1\r\nUser-Agent: curl/8.5\r\n\r\n")'
show nfluactl execute web -e 'return check_ua("GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\n\r\n")'

say "Mistakes come back with the chunk name and line"
printf 'local x = 1\nreturn x.y.z\n' > /tmp/bad.lua
show nfluactl execute web /tmp/bad.lua || true

say "A runaway script is stopped by the budget; the state keeps working"
show nfluactl execute web -e 'while true do end' || true
show nfluactl execute web -e 'return 1 + 1'

say "Memory is capped"
show nfluactl execute web -e 'local t = {} for i = 1, 100000000 do t[i] = i end' || true
show nfluactl stats web

show nfluactl destroy web
show nfluactl list
