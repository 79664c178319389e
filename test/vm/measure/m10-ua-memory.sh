#!/bin/sh
# Measurement for docs/platforms.md (run by scripts/test-arch.sh, not by `make test`): the
# memory of a Lua state holding the User-Agent blocklist policy of p10-http-ua, as `nfluactl
# stats` reports it, after loading and after a full garbage collection; and the module's size.
# timeout: 60
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh

cat >/tmp/ua.lua <<'EOF'
local blocked = { "sqlmap", "evilbot", "nikto", "masscan", "zgrab", "curl/7.0" }

function check_ua(pkt)
	local ua = pkt:payload():match("\r\n[Uu]ser%-[Aa]gent: *([^\r\n]*)")
	if not ua then return false end
	ua = ua:lower()
	for _, word in ipairs(blocked) do
		if ua:find(word, 1, true) then return true end
	end
	return false
end
EOF
mem() { nfluactl stats "$1" | sed -n 's/^mem=//p'; }
run nfluactl create empty
empty=$(mem empty)
run nfluactl create web
run nfluactl execute web /tmp/ua.lua
loaded=$(mem web)
run nfluactl execute web -e 'collectgarbage() collectgarbage()'
gc=$(mem web)
[ -n "$gc" ] && [ "$gc" -gt 0 ] || fail "no mem counter in nfluactl stats"
kb=$(awk '$1 == "nflua" { print $2 }' /proc/modules)
echo "NFLUA-MEASURE arch=$(uname -m) empty_state=$empty ua_loaded=$loaded ua_after_gc=$gc module_core=$kb"
run nfluactl destroy web
run nfluactl destroy empty
