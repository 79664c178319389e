#!/bin/sh
# timeout: 600
# /etc/init.d/nflua for real: OpenWrt's procd, ubusd, uci, validate_data, jshn, jsonfilter
# (built from the pinned sources by scripts/openwrt-runtime.sh), OpenWrt's /etc/rc.common,
# /lib/functions.sh, procd.sh, uci.sh and jshn.sh, the nfluactl and nflua-policies packages
# made by OpenWrt's packaging (unpacked with apk), and the real nflua.ko. Images and files:
# scripts/test-openwrt-service.sh.
. /test/lib.sh
. /test/net.sh
. /test/openwrt.sh

blocked_now() { fetch "$CLI" 2 "$@" "http://$S4/"; [ "$RC" = 28 ]; }
served_now() { fetch "$CLI" 5 "$@" "http://$S4/"; [ "$RC" = 0 ]; }

net_init
net_pair 1 1
serve "$SRV" 80

step "OpenWrt runtime: syslogd, ubusd, procd (not PID 1)"
openwrt_runtime
run /etc/uci-defaults/95-nflua
run uci get firewall.nflua.type
assert_eq "$OUT" script "uci-defaults registered the fw4 include"
run uci get firewall.nflua.fw4_compatible
assert_eq "$OUT" 1 "fw4_compatible"

step "configuration: state web (User-Agent list), rules v4 and v6"
ua_config web maxalloc=2M budget=200000

step "start"
run /etc/init.d/nflua enable
run /etc/init.d/nflua start
run nfluactl list
assert_contains "$OUT" "name=web maxalloc=2097152" "state web created with its maxalloc"
assert_contains "$OUT" "budget=200000" "budget"
run iptables -S FORWARD
assert_contains "$OUT" "-j NFLUA-FORWARD-" "jump into our chain"
run ip6tables -S FORWARD
assert_contains "$OUT" "-j NFLUA-FORWARD-" "ip6tables jump"
run ubus call service list '{"name":"nflua","verbose":true}'
assert_contains "$OUT" '"nflua"' "procd knows the service"
assert_contains "$OUT" "config.change" "reload trigger registered"
get_blocked "$CLI" "http://$S4/" -A blocked-agent
get_blocked "$CLI" "http://[$S6]/" -A blocked-agent
get_ok "$CLI" "http://$S4/"
get_ok "$CLI" "http://[$S6]/"
run reload_config	# the checksums a change is compared with (OpenWrt makes them at boot)

step "a list change through uci commit + reload_config: procd reloads, new verdicts"
uci add_list nflua.web.script=/etc/nflua/policies/http_ua.conf.lua
uci commit nflua
run reload_config
# the packaged list (curl/, sqlmap, ...) runs last and replaces web-list.lua's
wait_for 20 blocked_now || fail "curl's own User-Agent not blocked after the reload"
get_blocked "$CLI" "http://[$S6]/"
get_ok "$CLI" "http://$S4/" -A blocked-agent
get_ok "$CLI" "http://$S4/" -A friendly-agent
assert_eq "$(iptables -S | grep -c '^-N NFLUA-FORWARD')" 1 "one generation of our chain after the reload"

step "a broken script: only its own state and rules are left out, the log says why"
printf 'x = = 1\n' >/etc/nflua/broken.lua
uci -q batch <<'UCI' || fail "uci batch"
set nflua.bad=state
add_list nflua.bad.script=/etc/nflua/broken.lua
set nflua.bad_rule=rule
set nflua.bad_rule.state=bad
set nflua.bad_rule.function=nothing
set nflua.bad_rule.chain=input
set nflua.odd_rule=rule
set nflua.odd_rule.family=ipv5
set nflua.odd_rule.state=web
set nflua.odd_rule.function=http_ua_match
commit nflua
UCI
expect_fail /etc/init.d/nflua reload
run nfluactl list
case $OUT in *name=bad*) fail "state bad still exists: $OUT" ;; esac
assert_contains "$OUT" "name=web" "web still there"
sys_log "broken.lua:1:" || fail "no Lua error in the system log: $(grep nflua /tmp/syslog)"
sys_log "state bad: script /etc/nflua/broken.lua: broken.lua:1:" || fail "log does not name the state"
sys_log "state bad: left out with its rules" || fail "log does not say the state is left out"
sys_log "rule odd_rule: invalid options" || fail "validate_data did not refuse family ipv5"
expect_fail sh -c 'iptables -S | grep -q -- "--state bad"'
get_blocked "$CLI" "http://$S4/"
get_ok "$CLI" "http://$S4/" -A friendly-agent
uci delete nflua.bad
uci delete nflua.bad_rule
uci delete nflua.odd_rule
uci commit nflua
run /etc/init.d/nflua reload

step "booleans as UCI writes them (yes/no, on/off, true/false, enabled/disabled): what they say"
uci -q batch <<'UCI' || fail "uci batch"
set nflua.web_ua.enabled=yes
set nflua.web_ua.tcp_payload=TRUE
set nflua.web_ua.invert=off
set nflua.probe=rule
set nflua.probe.enabled=Enabled
set nflua.probe.family=ipv4
set nflua.probe.chain=input
set nflua.probe.match='-p udp --dport 9'
set nflua.probe.state=web
set nflua.probe.function=http_ua_match
set nflua.probe.invert=on
set nflua.probe.target=ACCEPT
set nflua.gone=rule
set nflua.gone.enabled=no
set nflua.gone.chain=input
set nflua.gone.match='-p udp --dport 7'
set nflua.gone.state=web
set nflua.gone.function=http_ua_match
commit nflua
UCI
run /etc/init.d/nflua reload
run iptables -S
assert_contains "$OUT" "-p tcp -m tcp --dport 80 -m lua --state web --function http_ua_match --tcp-payload -j DROP" "web_ua: enabled=yes, tcp_payload=TRUE, invert=off"
assert_contains "$OUT" "-p udp -m udp --dport 9 -m lua --state web ! --function http_ua_match -j ACCEPT" "probe: enabled=Enabled, invert=on"
case $OUT in *"--dport 7 "*) fail "rule gone (enabled=no) is in: $OUT" ;; esac
get_blocked "$CLI" "http://$S4/"
uci delete nflua.probe
uci delete nflua.gone
uci set nflua.web_ua.enabled=1
uci set nflua.web_ua.tcp_payload=1
uci delete nflua.web_ua.invert
uci commit nflua
run /etc/init.d/nflua reload

step "firewall actions: our chains flushed away come back through the fw4 include"
for c in $(iptables -S | sed -n 's/^-N \(NFLUA-[A-Z0-9-]*\)/\1/p'); do
	iptables -D FORWARD -j "$c"; iptables -F "$c"; iptables -X "$c"
done
for c in $(ip6tables -S | sed -n 's/^-N \(NFLUA-[A-Z0-9-]*\)/\1/p'); do
	ip6tables -D FORWARD -j "$c"; ip6tables -F "$c"; ip6tables -X "$c"
done
get_ok "$CLI" "http://$S4/"
run /usr/lib/nflua/firewall.include
get_blocked "$CLI" "http://$S4/"
get_blocked "$CLI" "http://[$S6]/"

step "stop: nothing of ours left"
run /etc/init.d/nflua stop
run nfluactl list
assert_eq "$OUT" "" "no state left"
assert_eq "$(ours_left)" 0 "no NFLUA chain or jump left"
get_ok "$CLI" "http://$S4/"
run /usr/lib/nflua/firewall.include
assert_eq "$(ours_left)" 0 "the include does nothing while stopped"
