#!/bin/sh
# timeout: 120
# xtables-addons' xt_LUA (OpenWrt's kmod-ipt-lua) registers an xt target LUA, revision 0, for
# every family: the name and revision of nflua's target. The kernel does not refuse a second
# registration, it would shadow one with the other, so nflua.ko refuses to load when a LUA
# target (or a lua match) is already there, and the packages declare CONFLICTS. The real
# xt_LUA cannot be built here (xtables-addons is not among the pinned sources and needs
# OpenWrt's kernel): test/vm/standin/xt_LUA_standin.c registers exactly that target.
. /test/lib.sh
ko=/test/standin/xt_LUA_standin.ko
# count NAME FILE: lines that are exactly NAME in FILE
count() { grep -cx "$1" "$2"; }

step "nflua (loaded by the harness) out, the stand-in in"
run modprobe ip_tables	# (its /proc/net/ip_tables_targets lists IPv4's and all families' targets)
run modprobe ip6_tables
run rmmod nflua
run insmod "$ko"
assert_eq "$(count LUA /proc/net/ip_tables_targets)" 1 "the stand-in's LUA target (IPv4 view)"
assert_eq "$(count LUA /proc/net/ip6_tables_targets)" 1 "the stand-in's LUA target (IPv6 view)"
before=$(dmesg | wc -l)

step "modprobe nflua refuses, with a message that says why"
expect_fail modprobe nflua
assert_contains "$ERR" "Device or resource busy" "modprobe's error"
log=$(dmesg | tail -n +"$((before + 1))")
printf '%s\n' "$log"
assert_contains "$log" "nflua: an xt target LUA revision 0 is already registered (xtables-addons' xt_LUA" "the kernel log says why"
case $(lsmod) in *"nflua "*) fail "nflua is loaded: $(lsmod)" ;; esac
[ ! -e /dev/nflua ] || fail "/dev/nflua exists"
step "nothing of nflua left registered"
assert_eq "$(count LUA /proc/net/ip_tables_targets)" 1 "only the stand-in's LUA target"
assert_eq "$(count LUA /proc/net/ip6_tables_targets)" 1 "only the stand-in's LUA target (IPv6)"
assert_eq "$(count lua /proc/net/ip_tables_matches)" 0 "no lua match left behind"
assert_eq "$(count lua /proc/net/ip6_tables_matches)" 0 "no lua match left behind (IPv6)"

step "the stand-in out: nflua loads and works"
run rmmod xt_LUA_standin
assert_eq "$(count LUA /proc/net/ip_tables_targets)" 0 "no LUA target"
run modprobe nflua
[ -e /dev/nflua ] || fail "no /dev/nflua after modprobe"
assert_eq "$(count LUA /proc/net/ip_tables_targets)" 1 "nflua's LUA target"
assert_eq "$(count lua /proc/net/ip6_tables_matches)" 1 "nflua's lua match"
run nfluactl create conflict-check
run iptables -A OUTPUT -p udp --dport 9 -m lua --state conflict-check --function f -j ACCEPT
run iptables -D OUTPUT -p udp --dport 9 -m lua --state conflict-check --function f -j ACCEPT
run nfluactl destroy conflict-check
