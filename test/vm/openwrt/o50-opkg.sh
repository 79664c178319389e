#!/bin/sh
# timeout: 600
# OpenWrt 24.10's way: the packages installed for real with opkg (opkg-lede from the pinned
# source) in the QEMU router, with opkg's own status and info files; the service then runs from
# what opkg installed. nfluactl and nflua-policies are 24.10's packaging's .ipk files
# (scripts/feed-test.sh 24.10); kmod-nflua, iptables-mod-nflua and libc are metadata-only
# stand-ins (scripts/openwrt-opkg-pkgs.sh). The maintainer scripts and the service run on
# 24.10's own /etc/rc.common, /lib/functions.sh and procd.sh (main's are put back at the end;
# procd, ubus and uci are main's builds). Install (postinst: uci-defaults, enable, start), upgrade
# to 0.1.0-r2 keeping the edited /etc/config/nflua, removal (prerm: service stopped, rules and
# states gone, the fw4 include unregistered).
. /test/lib.sh
. /test/net.sh
. /test/openwrt.sh

opkg() { /test/ipk/opkg "$@"; }
installed() { opkg list-installed 2>/dev/null | grep -qx "$1 - $2"; }

net_init
net_pair 5 5
serve "$SRV" 80

step "OpenWrt 24.10's rc.common, functions.sh and procd.sh in place of main's"
mkdir -p /tmp/main-base
cp /etc/rc.common /usr/lib/functions.sh /usr/lib/functions/procd.sh /tmp/main-base/
trap 'cp /tmp/main-base/rc.common /etc/rc.common; cp /tmp/main-base/functions.sh /usr/lib/functions.sh; cp /tmp/main-base/procd.sh /usr/lib/functions/procd.sh' EXIT
cp /usr/share/nflua-test/24.10/rc.common /etc/rc.common
cp /usr/share/nflua-test/24.10/functions.sh /usr/lib/functions.sh
cp /usr/share/nflua-test/24.10/procd.sh /usr/lib/functions/procd.sh
cmp -s /etc/rc.common /tmp/main-base/rc.common && fail "24.10's rc.common is main's: the case would not tell"

step "OpenWrt runtime: syslogd, ubusd, procd (not PID 1)"
openwrt_runtime
uci -q delete firewall.nflua && uci commit firewall	# (an earlier case's include)

step "the harness's copies of our files out: only opkg puts them back"
rm -rf /usr/sbin/nfluactl /etc/init.d/nflua /etc/config/nflua /etc/uci-defaults/95-nflua \
	/usr/lib/nflua /usr/share/nflua /etc/nflua /etc/rc.d/*nflua /lib/apk /etc/apk /usr/lib/opkg /etc/opkg.conf
[ ! -e /usr/sbin/nfluactl ] || fail "nfluactl still there"

step "opkg install: the packages and their dependencies"
printf 'dest root /\nlists_dir ext /var/opkg-lists\narch all 1\narch noarch 1\narch x86_64 10\n' >/etc/opkg.conf
mkdir -p /usr/lib/opkg/info /var/opkg-lists
run opkg install /test/ipk/*.ipk
printf '%s\n' "$OUT"
for p in nfluactl nflua-policies kmod-nflua iptables-mod-nflua; do
	installed "$p" 0.1.0-r1 || fail "$p is not installed: $(opkg list-installed 2>&1)"
done
installed_ok /usr/lib/opkg/info/nfluactl.list

step "the conffile edited: a state and a rule; restart -> verdicts"
ua_config opkg
run /etc/init.d/nflua restart
ours_once "after the restart"
blocked_all

step "upgrade to 0.1.0-r2: the edited /etc/config/nflua is kept, the service keeps filtering"
run opkg install /test/ipk/upgrade/nfluactl_0.1.0-r2_all.ipk
printf '%s\n%s\n' "$OUT" "$ERR"
installed nfluactl 0.1.0-r2 || fail "nfluactl not upgraded: $(opkg list-installed 2>&1)"
run uci get nflua.opkg_ua.state
assert_eq "$OUT" opkg "our rule section survived the upgrade"
[ -f /etc/config/nflua-opkg ] || fail "the packaged config was not set aside as nflua-opkg"
ours_once "after the upgrade"
blocked_all

step "opkg remove nfluactl: prerm stops the service; rules, states and the include gone"
cp /usr/sbin/nfluactl /tmp/nfluactl.saved
run opkg remove nfluactl
printf '%s\n' "$OUT"
installed nfluactl 0.1.0-r2 && fail "nfluactl still installed"
[ ! -e /etc/init.d/nflua ] || fail "/etc/init.d/nflua left behind"
[ ! -e /usr/sbin/nfluactl ] || fail "/usr/sbin/nfluactl left behind"
ls /etc/rc.d/*nflua >/dev/null 2>&1 && fail "rc.d link left behind: $(ls /etc/rc.d)"
assert_eq "$(ours_left)" 0 "no chain or jump of ours"
run /tmp/nfluactl.saved list
assert_eq "$OUT" "" "no state left"
get_ok "$CLI" "http://$S4/" -A blocked-agent
expect_fail uci -q get firewall.nflua
run ubus call service list '{"name":"nflua"}'
case $OUT in *'"nflua"'*) fail "procd still has the service: $OUT" ;; esac
