#!/bin/sh
# Replacing the filter function while traffic flows. A client loops 30 HTTP requests with one
# User-Agent through the router's Lua rule; during the first 15, nfluactl execute keeps
# replacing check_ua with versions that allow that agent (all 15 must succeed); then check_ua is
# replaced by a version that blocks it, and the last 15 must fail. An unrelated connection loop
# (a second server port the rule does not cover) runs all along and never fails.
# timeout: 120
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh
net_init

cat >/tmp/allow.lua <<'EOF'
local blocked = { "evilbot" }
version = (version or 0) + 1
function check_ua(pkt)
	local ua = pkt:payload():match("\r\nUser%-Agent: ([^\r\n]*)")
	if not ua then return false end
	for _, w in ipairs(blocked) do
		if ua:lower():find(w, 1, true) then return true end
	end
	return false
end
EOF
sed 's/"evilbot"/"evilbot", "friendly"/' /tmp/allow.lua >/tmp/block.lua

run nfluactl create web
run nfluactl execute web /tmp/allow.lua
net_pair 1 1
serve "$SRV" 80
serve "$SRV" 8080
run iptables-legacy -A FORWARD -p tcp --dport 80 -m lua --state web --function check_ua \
    --tcp-payload -j DROP

rm -f /tmp/loop80 /tmp/loop8080 /tmp/half /tmp/replaced /tmp/done
step "client loops start"
(
    i=1
    while [ $i -le 30 ]; do
        if [ $i = 16 ]; then
            touch /tmp/half
            while [ ! -e /tmp/replaced ]; do sleep 0.05; done
        fi
        t=5
        [ $i -le 15 ] || t=1
        rc=0
        nsdo "$CLI" curl -s -o /dev/null --max-time $t -A Friendly/1.0 "http://$S4/" || rc=$?
        echo "$i $rc" >>/tmp/loop80
        i=$((i + 1))
    done
    touch /tmp/done
) &
(
    while [ ! -e /tmp/done ]; do
        rc=0
        nsdo "$CLI" curl -s -o /dev/null --max-time 5 -A Friendly/1.0 "http://$S4:8080/" || rc=$?
        echo "$rc" >>/tmp/loop8080
    done
) &

step "replacing check_ua (still allowing) during the first 15 requests"
k=0
while [ ! -e /tmp/half ]; do
    run nfluactl execute web /tmp/allow.lua
    k=$((k + 1))
    [ $k -lt 500 ] || fail "the first 15 requests did not end"
done
echo "replaced $k times"
[ $k -ge 3 ] || fail "only $k replacements during the first half"
step "replacing check_ua with a version that blocks the agent"
run nfluactl execute web /tmp/block.lua
touch /tmp/replaced
i=0
while [ ! -e /tmp/done ]; do
    sleep 0.2
    i=$((i + 1))
    [ $i -lt 300 ] || fail "the client loop did not end"
done
wait

cat /tmp/loop80 | tr '\n' ' '
echo
want=$(i=1; while [ $i -le 30 ]; do
    if [ $i -le 15 ]; then echo "$i 0"; else echo "$i 28"; fi
    i=$((i + 1))
done)
assert_eq "$(cat /tmp/loop80)" "$want" "request: exit status"
n=$(wc -l </tmp/loop8080)
echo "unrelated connection: $n requests: $(sort /tmp/loop8080 | uniq -c | tr '\n' ' ')"
[ "$n" -ge 10 ] || fail "unrelated connection: only $n requests"
assert_eq "$(grep -vc '^0$' /tmp/loop8080)" 0 "unrelated requests that failed"
stats web
echo "calls $ST_calls matches $ST_matches errors $ST_errors"
[ "$ST_matches" -ge 15 ] || fail "matches: $ST_matches"
assert_eq "$ST_errors" 0 "errors"
assert_eq "$(nfluactl execute web -e 'return version')" "$((k + 2))" "versions executed"
