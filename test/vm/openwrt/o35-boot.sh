#!/bin/sh
# timeout: 900
# The router boots: OpenWrt's procd as PID 1 (of a PID and mount namespace of its own, the way
# OpenWrt runs in a container, without the `container` hint: procd takes over /dev as on a
# router, a tmpfs filled by its hotplug rules) runs base-files' inittab, its rcS runs
# /etc/rc.d/S* boot: fw4 (S19firewall) and nflua (S25nflua) must come up with the configured
# policy, once, filtering real traffic; `nfluactl apply` then persists another policy; the
# shutdown (procd's rcS K* shutdown) removes ours; the kernel's state is wiped (module
# reloaded, as a reboot does) and the second boot restores the applied policy. A start that
# must load the module itself finds /dev/nflua only once procd's hotplug has made it, and waits
# for it with OpenWrt's sleep (whole seconds only).
# Not here: preinit and mount_root (the image's root is a ramfs) and base-files' S10boot
# (kmodloader, config_generate, wifi): the module is loaded by the harness, as kmodloader
# would from the kmod's /etc/modules.d entry. Images and files: scripts/test-openwrt-service.sh.
. /test/lib.sh
. /test/net.sh
. /test/openwrt.sh

P1=	# procd's PID outside its namespace

# boot: procd as PID 1 of a new PID and mount namespace; waits for rcS to have run (the file
# the S99 marker script touches) and sets P1
boot() {
	rm -f /tmp/boot-done
	/usr/bin/unshare --pid --fork --mount --mount-proc /usr/sbin/procd -S >>/tmp/procd-boot.log 2>&1 &
	_u=$!
	# (procd's own children are named procd until they exec: PID 1 is unshare's child)
	wait_for 20 child_of "$_u" || fail "procd did not start: $(tail -n 5 /tmp/procd-boot.log)"
	P1=$(child_of "$_u")
	wait_for 240 test -f /tmp/boot-done ||
		fail "rcS did not finish within 240 s: $(tail -n 20 /tmp/procd-boot.log) / syslog: $(tail -n 20 /tmp/syslog-boot 2>/dev/null)"
	assert_eq "$(in_ns cat /proc/1/comm)" procd "procd is PID 1 in its namespace"
}
# child_of PID: the PID of PID's child (one), false when it has none
child_of() {
	for _s in /proc/[0-9]*/stat; do
		read -r _p _ _ _pp _ <"$_s" 2>/dev/null || continue
		[ "$_pp" = "$1" ] && echo "$_p" && return 0
	done
	return 1
}
# in_ns CMD...: runs CMD in procd's namespaces (its /dev, its /proc)
in_ns() { /usr/bin/nsenter -t "$P1" -m -p "$@"; }
# shutdown_ns: procd's poweroff (SIGUSR2): rcS K* shutdown, then every process of the namespace
# ends and procd with it
shutdown_ns() {
	kill -USR2 "$P1"
	wait_for 120 sh -c '! pidof procd' || fail "procd did not power off: $(tail -n 20 /tmp/procd-boot.log)"
	P1=
}
# the policy restored after the second boot: applied by nfluactl apply (other-agent dropped)
applied_policy() {
	get_blocked "$CLI" "http://$S4/" -A other-agent
	get_blocked "$CLI" "http://[$S6]/" -A other-agent
	get_ok "$CLI" "http://$S4/" -A blocked-agent
	get_ok "$CLI" "http://[$S6]/" -A friendly-agent
}

# (fw4 has no stop at shutdown: its table, left in the kernel, would reject the next cases'
# traffic, pass or fail)
trap 'fw4 flush >/dev/null 2>&1; rm -f /etc/rc.d/*' EXIT
# OWSLEEP: the functions file as the init script and nfluactl source it (NFLUA_LIB), with
# OpenWrt's busybox sleep: whole seconds only (FLOAT_DURATION off in OpenWrt's
# package/utils/busybox/Config-defaults.in; this guest's busybox has it on)
OWSLEEP=/tmp/openwrt-sleep.sh
cat >"$OWSLEEP" <<'EOS'
sleep() {
	case $1 in *[!0-9]*) echo "sleep: invalid number '$1'" >&2; return 1 ;; esac
	command sleep "$1"
}
. /usr/lib/nflua/nflua-functions.sh
EOS

net_init
net_pair 1 1
serve "$SRV" 80

# wipe_volatile: what a reboot empties (/var/run and /var/lock are tmpfs on OpenWrt), here
# also what earlier cases left there
wipe_volatile() {
	rm -rf /var/run/nflua /var/run/ubus /var/lock/nflua.lock /tmp/syslog-boot
	mkdir -p /var/run /var/lock /var/state /tmp/run
}

step "a router's files: base-files' inittab, procd's hotplug.json, fw4 and nflua enabled"
wipe_volatile
mkdir -p /etc/config /etc/rc.d /etc/nflua
# (base-files' inittab without its askconsole line: there is no login.sh, and the console is
# the harness's)
grep -v askconsole /usr/share/nflua-test/inittab >/etc/inittab
assert_contains "$(cat /etc/inittab)" "::sysinit:/etc/init.d/rcS S boot" "base-files' inittab"
cp /usr/share/nflua-test/hotplug.json /etc/hotplug.json
rm -f /etc/rc.d/*
cp /usr/share/nflua-test/firewall.default /etc/config/firewall
run uci add_list firewall.@zone[0].device="rc${CLI#c}"
run uci add_list firewall.@zone[1].device="rs${SRV#s}"
run uci commit firewall
run /etc/uci-defaults/95-nflua
# (the configuration of this router only: earlier cases' states and applied files out)
rm -rf /etc/nflua/apply
: >/etc/config/nflua
ua_config web maxalloc=2M
# (`enable` needs no running procd: rc.common links /etc/rc.d/S<START><name>)
run /etc/init.d/firewall enable
run /etc/init.d/nflua enable
ls /etc/rc.d/S19firewall /etc/rc.d/S25nflua /etc/rc.d/K85nflua >/dev/null ||
	fail "rc.d links: $(ls /etc/rc.d)"
# stand-ins for what base-files and ubox start at boot and are not here: a system log (logd,
# S12log) and a marker that rcS is done (last, S99)
cat >/etc/rc.d/S12syslog <<'EOF'
#!/bin/sh
busybox syslogd -O /tmp/syslog-boot
EOF
cat >/etc/rc.d/S99zz-booted <<'EOF'
#!/bin/sh
touch /tmp/boot-done
EOF
chmod 0755 /etc/rc.d/S12syslog /etc/rc.d/S99zz-booted
run modprobe nflua
assert_eq "$(nfluactl list)" "" "no state before the boot"
assert_eq "$(ours_left)" 0 "no rule of ours before the boot"

step "first boot: procd PID 1, rcS S boot: fw4 and our policy come up"
boot
run nfluactl list
assert_contains "$OUT" "name=web maxalloc=2097152" "state web created at boot"
ours_once "first boot"
run nft list table inet fw4
assert_contains "$OUT" "chain forward_lan" "fw4's ruleset is up"
run ubus call service list '{"name":"nflua"}'
assert_contains "$OUT" '"nflua"' "procd (PID 1) knows the service"
in_ns ls -l /dev/nflua >/tmp/devnode 2>&1 || fail "no /dev/nflua in procd's /dev: $(cat /tmp/devnode)"
echo "procd's /dev: $(cat /tmp/devnode)"
in_ns grep -q ' /dev tmpfs ' /proc/mounts || fail "procd's /dev is not its tmpfs: $(in_ns grep ' /dev ' /proc/mounts)"
wait_for 10 grep -q "nflua: 1 state(s), 2 rule(s) running" /tmp/syslog-boot ||
	fail "no 'running' line in the boot's log: $(grep nflua /tmp/syslog-boot)"
grep nflua /tmp/syslog-boot | sed 's/^/boot log: /'
# (a first boot has no records yet: that is not an error to log)
grep -E 'nflua' /tmp/syslog-boot | grep -iE "can't|error|fail|not found" &&
	fail "the boot logged an error of ours"
blocked_all

B=/tmp/boot-bundle
ua_bundle "$B" other-agent maxalloc=3M
step "f_nap with OpenWrt's sleep waits a second, with this guest's a tenth"
# shellcheck disable=SC1090,SC2154 # (f_napped: set by the sourced f_nap)
out=$( . "$OWSLEEP"; a=$(cut -d' ' -f1 /proc/uptime); f_nap; b=$(cut -d' ' -f1 /proc/uptime)
	echo "$f_napped $(awk -v a="$a" -v b="$b" 'BEGIN { print (b - a >= 0.9) }')")
assert_eq "$out" "10 1" "OpenWrt's sleep: f_nap slept a second and says so"
# shellcheck disable=SC1091
out=$( . /usr/lib/nflua/nflua-functions.sh; f_nap; echo "$f_napped")
assert_eq "$out" 1 "a sleep with fractions: a tenth"

step "nfluactl apply (with OpenWrt's sleep): another policy (other-agent), persisted"
run in_ns env NFLUA_LIB="$OWSLEEP" /usr/sbin/nfluactl apply "$B"
assert_contains "$OUT" "result changed" "apply"
applied_policy

step "shutdown: rcS K* shutdown stops the service: nothing of ours left"
shutdown_ns
assert_eq "$(nfluactl list)" "" "no state after the shutdown"
assert_eq "$(ours_left)" 0 "no rule of ours after the shutdown"
run nft list tables
case $OUT in *"inet fw4"*) ;; *) fail "fw4's table is gone after the shutdown (fw4 has no stop at shutdown)" ;; esac

step "the reboot's clean kernel and tmpfs: module reloaded, every table flushed, /var/run emptied"
run rmmod nflua
run modprobe nflua
run nft flush ruleset
wipe_volatile
assert_eq "$(ours_left)" 0 "nothing of ours in the fresh kernel"

step "second boot: the applied policy comes back, once"
boot
run nfluactl list
assert_contains "$OUT" "name=web maxalloc=3145728" "state web as applied (maxalloc 3M)"
ours_once "second boot"
applied_policy
run in_ns /usr/sbin/nfluactl apply "$B"
assert_contains "$OUT" "result ok" "re-applying the same policy after the boot: nothing to do"

step "a start that loads the module itself: /dev/nflua comes from procd's hotplug, after modprobe"
run in_ns /etc/init.d/nflua stop
assert_eq "$(ours_left)" 0 "stopped"
run rmmod nflua
in_ns test -e /dev/nflua && fail "procd's hotplug did not remove /dev/nflua"
# procd handles the module's uevent some time after modprobe returned (seen here as a start
# that found no /dev/nflua, 1 run in 7): made certain by stopping procd for 2 s. The start
# runs with OpenWrt's sleep, which takes whole seconds only (OWSLEEP, above): a wait made of
# `sleep 0.1` would not wait at all.
kill -STOP "$P1"
(sleep 2; kill -CONT "$P1") &
_cont=$!
run in_ns env NFLUA_LIB="$OWSLEEP" /etc/init.d/nflua start
wait "$_cont"
run nfluactl list
assert_contains "$OUT" "name=web" "state web after a start that loaded the module (start said: $ERR)"
ours_once "start after modprobe"
applied_policy

step "power off"
shutdown_ns
assert_eq "$(ours_left)" 0 "nothing of ours left"
