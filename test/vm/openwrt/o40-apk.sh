#!/bin/sh
# timeout: 600
# The packages installed for real with apk (apk-tools v3 as OpenWrt main builds it) in the QEMU
# router, with apk's own database: the service then runs from what apk installed, not from
# files copied by the harness. nfluactl and nflua-policies are OpenWrt's packaging's .apk files
# (scripts/feed-test.sh main); kmod-nflua, iptables-mod-nflua and libc are metadata-only
# stand-ins (scripts/openwrt-apk-pkgs.sh: the kmod and the extensions need OpenWrt's SDK; the
# guest has the module and the extensions of `make`). Install (post-install: uci-defaults, enable,
# start), upgrade to 0.1.0-r2 keeping the edited /etc/config/nflua, removal (pre-deinstall:
# service stopped, rules and states gone, the fw4 include unregistered).
. /test/lib.sh
. /test/net.sh
. /test/openwrt.sh

# (--force-non-repository: the guest's root is a ramfs, which apk sees as lost at reboot)
apk() { /usr/bin/apk --allow-untrusted --no-network --force-non-repository "$@"; }
installed() { apk info -v 2>/dev/null | grep -qx "$1"; }

net_init
net_pair 4 4
serve "$SRV" 80

step "OpenWrt runtime: syslogd, ubusd, procd (not PID 1)"
openwrt_runtime
uci -q delete firewall.nflua && uci commit firewall	# (an earlier case's include)

step "the harness's copies of our files out: only apk puts them back"
rm -rf /usr/sbin/nfluactl /etc/init.d/nflua /etc/config/nflua /etc/uci-defaults/95-nflua \
	/usr/lib/nflua /usr/share/nflua /etc/nflua /etc/rc.d/*nflua /lib/apk /etc/apk
[ ! -e /usr/sbin/nfluactl ] || fail "nfluactl still there"

step "apk add: the packages and their dependencies"
run apk add --initdb /test/apk/*.apk
printf '%s\n' "$OUT"
for p in nfluactl-0.1.0-r1 nflua-policies-0.1.0-r1 kmod-nflua-0.1.0-r1 iptables-mod-nflua-0.1.0-r1; do
	installed "$p" || fail "$p is not installed: $(apk info -v 2>&1)"
done
installed_ok /lib/apk/packages/nfluactl.list

step "the conffile edited: a state and a rule; restart -> verdicts"
ua_config apk
run /etc/init.d/nflua restart
ours_once "after the restart"
blocked_all

step "upgrade to 0.1.0-r2: the edited /etc/config/nflua is kept, the service keeps filtering"
run apk add /test/apk/upgrade/nfluactl-0.1.0-r2.apk
printf '%s\n' "$OUT"
installed nfluactl-0.1.0-r2 || fail "nfluactl not upgraded: $(apk info -v 2>&1)"
run uci get nflua.apk_ua.state
assert_eq "$OUT" apk "our rule section survived the upgrade"
[ -f /etc/config/nflua.apk-new ] || fail "the packaged config was not set aside as nflua.apk-new"
ours_once "after the upgrade"
blocked_all

step "apk del nfluactl: pre-deinstall stops the service; rules, states and the include gone"
cp /usr/sbin/nfluactl /tmp/nfluactl.saved
run apk del nfluactl
printf '%s\n' "$OUT"
installed nfluactl-0.1.0-r2 && fail "nfluactl still installed"
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
