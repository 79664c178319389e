#!/bin/sh
# timeout: 600
# fw4 for real next to /etc/init.d/nflua: firewall4 and ucode from the pinned sources, Debian's
# nft, OpenWrt's procd/ubus/uci (scripts/openwrt-runtime.sh), fw4's default /etc/config/firewall
# with the router's two legs as its lan and wan zones, and the fw4 include that nfluactl's
# uci-defaults registers. Every firewall action (start, restart, reload, stop; start) must leave
# our rules in place or bring them back, and fw4's own table must be exactly what fw4 renders
# with or without nflua. Images and files: scripts/test-openwrt-service.sh.
. /test/lib.sh
. /test/net.sh
. /test/openwrt.sh

# fw4_table: fw4's table without its counters' values (traffic changes them)
fw4_table() { nft list table inet fw4 | sed 's/counter packets [0-9]* bytes [0-9]*/counter/g'; }
# fw ACTION: /etc/init.d/firewall ACTION succeeds and fw4 reports no failed include
fw() {
	run /etc/init.d/firewall "$1"
	[ -z "$ERR" ] || printf 'firewall %s said: %s\n' "$1" "$ERR"
	case $ERR in *"Include "*" failed"*) fail "fw4 ran our include with an error: $ERR" ;; esac
}

net_init
net_pair 2 2
serve "$SRV" 80

step "OpenWrt runtime: syslogd, ubusd, procd (not PID 1)"
openwrt_runtime

step "fw4's default configuration, the router's legs as lan (client) and wan (server) zones"
cp /usr/share/nflua-test/firewall.default /etc/config/firewall
run uci add_list firewall.@zone[0].device="rc${CLI#c}"
run uci add_list firewall.@zone[1].device="rs${SRV#s}"
run uci commit firewall
run /etc/uci-defaults/95-nflua
run uci get firewall.nflua.path
assert_eq "$OUT" /usr/lib/nflua/firewall.include "uci-defaults registered the fw4 include"

step "/etc/init.d/firewall start: fw4's ruleset in nft, lan -> wan forwarded"
fw start
run nft list tables
assert_contains "$OUT" "table inet fw4" "fw4's table exists"
run fw4_table
FW4=$OUT
assert_contains "$FW4" 'iifname "rc2" jump forward_lan' "the lan zone covers the client's leg"
assert_contains "$FW4" 'oifname "rs2" jump srcnat_wan' "the wan zone masquerades"
served_all

step "nflua: a state with a User-Agent list, a forward rule for both families"
for s in $(uci -q show nflua | sed -n 's/^nflua\.\([^.=]*\)=\(state\|rule\)$/\1/p'); do
	uci delete "nflua.$s"
done
ua_config fw maxalloc=2M
run /etc/init.d/nflua start
ours_once "nflua start"
blocked_all
run fw4_table
assert_eq "$OUT" "$FW4" "nflua start leaves fw4's table as fw4 made it"
run nft list tables
assert_contains "$OUT" "table ip filter" "our IPv4 rules are in iptables-nft's table"

step "/etc/init.d/firewall restart: fw4 rebuilds its table, ours stay once"
fw restart
ours_once "firewall restart"
blocked_all
run fw4_table
assert_eq "$OUT" "$FW4" "fw4's table after a restart is its own, unchanged by the include"

step "/etc/init.d/firewall reload"
fw reload
ours_once "firewall reload"
blocked_all
run fw4_table
assert_eq "$OUT" "$FW4" "fw4's table after a reload"

step "/etc/init.d/firewall stop deletes every nft table, ours included; start brings them back"
fw stop
run nft list tables
assert_eq "$OUT" "" "fw4 flush left no nft table"
assert_eq "$(ours_left)" 0 "our rules went with iptables-nft's tables"
served_all
fw start
ours_once "firewall stop; start"
blocked_all
run fw4_table
assert_eq "$OUT" "$FW4" "fw4's table after stop; start"

step "without the include, stop; start does not bring them back (what the include is for)"
run uci delete firewall.nflua
run uci commit firewall
fw stop
fw start
assert_eq "$(ours_left)" 0 "no include, no rules of ours after stop; start"
served_all
run /etc/uci-defaults/95-nflua
fw restart
ours_once "firewall restart with the include registered again"
blocked_all

step "nflua stop: ours gone, fw4's table untouched; firewall actions then add nothing of ours"
run /etc/init.d/nflua stop
assert_eq "$(ours_left)" 0 "nothing of ours after nflua stop"
run fw4_table
assert_eq "$OUT" "$FW4" "nflua stop leaves fw4's table alone"
served_all
fw restart
fw reload
assert_eq "$(ours_left)" 0 "the include does nothing while nflua is stopped"
run nfluactl list
assert_eq "$OUT" "" "no state left"
fw stop
