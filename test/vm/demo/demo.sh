#!/bin/sh
# The demo, in the QEMU router: a Lua state in the kernel, used from the router-side nfluactl,
# then an iptables rule that hands HTTP requests crossing the router to that Lua function.
set -u
. /test/lib.sh
. /test/net.sh	# the packet tests' router topology (test/vm/cases/p00-net.sh)
say() { printf '\n### %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
# must CMD...: show CMD, which has to succeed (the helpers of net.sh probe with failing commands,
# so the demo checks each step it depends on instead of set -e)
must() { show "$@" || fail "failed: $*"; }

say "nflua.ko is loaded; the router-side tool talks to /dev/nflua"
must nfluactl version

say "Create a state with a 1 MiB memory cap and a 100000-instruction budget per call"
must nfluactl create web --maxalloc 1M --budget 100000
must nfluactl list

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
must nfluactl execute web /tmp/check_ua.lua

say "Call it from user space (iptables will call it per packet)"
must nfluactl execute web -e 'return check_ua("GET / HTTP/1.1\r\nUser-Agent: curl/8.5\r\n\r\n")'
must nfluactl execute web -e 'return check_ua("GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\n\r\n")'

say "Mistakes come back with the chunk name and line"
printf 'local x = 1\nreturn x.y.z\n' > /tmp/bad.lua
show nfluactl execute web /tmp/bad.lua || true

say "A runaway script is stopped by the budget; the state keeps working"
show nfluactl execute web -e 'while true do end' || true
must nfluactl execute web -e 'return 1 + 1'

say "Memory is capped"
show nfluactl execute web -e 'local t = {} for i = 1, 100000000 do t[i] = i end' || true

say "The router: a client and a web server in their own network namespaces, forwarding on"
net_init
net_pair 1 1
serve "$SRV" 80 "the web server's page"
echo "client $C4 --- router --- server $S4 (busybox httpd on port 80)"

say "The rule: every HTTP request crossing the router goes to check_ua; true means DROP"
cat > /tmp/check_ua_pkt.lua <<'LUA'
local blocked = { "curl/", "sqlmap", "nikto" }

function check_ua(pkt)
	local ua = pkt:payload():match("\r\n[Uu]ser%-[Aa]gent: *([^\r\n]*)")
	if not ua then return false end
	ua = ua:lower()
	for _, word in ipairs(blocked) do
		if ua:find(word, 1, true) then return true end
	end
	return false
end
LUA
must nfluactl execute web /tmp/check_ua_pkt.lua
must iptables -A FORWARD -p tcp --dport 80 -m lua --state web --function check_ua --tcp-payload -j DROP
must iptables -S FORWARD

say "A browser's User-Agent gets the page"
must /usr/sbin/ip netns exec "$CLI" curl -sS --max-time 3 -A "Mozilla/5.0" "http://$S4/"

say "curl's own User-Agent is blocked by the Lua function in the kernel"
printf '$ %s\n' "ip netns exec $CLI curl -sS --max-time 3 http://$S4/"
if /usr/sbin/ip netns exec "$CLI" curl -sS --max-time 3 "http://$S4/"; then
	fail "curl's request was not blocked"
fi
echo "(blocked: no page within 3 s)"

say "Counters: the rule dropped what Lua matched"
must iptables -L FORWARD -v -n
must nfluactl stats web

must iptables -F FORWARD
must nfluactl destroy web
must nfluactl list
