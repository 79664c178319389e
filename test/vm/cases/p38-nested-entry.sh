#!/bin/sh
# The C stack guard with nested entries on one stack. A "reset" verdict sends its RST from
# inside the target (as REJECT does); the RST passes OUTPUT, whose rule calls Lua again, below
# the target's frames on the same stack. On a stack whose depth is unknown (the IRQ stack of
# x86_64 and arm64, where a router forwards) every entry used to assume half of it free, so the
# nested entry got as much room as the outer one, and nesting without bound would never have
# been refused. Now a nested entry measures from the outer one: it always gets less room. The
# room is measured from Lua as the depth of pcall nesting before "C stack overflow".
# timeout: 150
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/n.lua <<'EOF'
local max
local function dive(n) max = n pcall(dive, n + 1) end
local function measure() max = 0 dive(1) return max end
FWD, OUT = {}, {}
function rst(p)
	if p.payloadlen == 0 then return "continue" end
	FWD[#FWD + 1] = measure()
	return "reset"
end
function out(p)
	OUT[#OUT + 1] = measure()
	return false
end
function check()
	if #FWD == 0 or #FWD ~= #OUT then return "calls: " .. #FWD .. " " .. #OUT end
	for i = 1, #FWD do
		if OUT[i] >= FWD[i] then return "nested entry " .. i .. " reached depth " ..
			OUT[i] .. ", the outer one " .. FWD[i] end
	end
	return "ok " .. table.concat(FWD, ",") .. " / " .. table.concat(OUT, ",")
end
EOF
run nfluactl create n
run nfluactl execute n /tmp/n.lua

n=0
for ipt in iptables-legacy iptables-nft; do
    n=$((n + 1))
    net_pair "38$n" "$((38 + n))"
    serve "$SRV" 80
    step "$ipt: -j LUA reset in FORWARD, its RST meets a Lua rule in OUTPUT"
    run nfluactl execute n -e 'FWD, OUT = {}, {}'
    run "$ipt" -A FORWARD -p tcp --dport 80 -j LUA --state n --function rst
    run "$ipt" -A OUTPUT -p tcp --tcp-flags RST RST -m lua --state n --function out
    for i in 1 2 3; do
        fetch "$CLI" 5 "http://$S4/"
        [ "$RC" = 56 ] || fail "$ipt: curl $i: exit $RC ($CERR), expected a reset (56)"
    done
    run nfluactl execute n -e 'return check()'
    echo "$OUT"
    assert_contains "$OUT" "ok " "$ipt: depths"
    run "$ipt" -F FORWARD
    run "$ipt" -F OUTPUT
done
run nfluactl destroy n
