#!/bin/sh
# timeout: 120
# xtables-addons' xt_LUA (OpenWrt's kmod-ipt-lua) registers an xt target LUA, revision 0, for
# every family: the name and revision of nflua's target. The kernel does not refuse a second
# registration, it would shadow one with the other, so nflua.ko refuses to load when a LUA
# target (or a lua match) is already there, and the packages declare CONFLICTS. In the other
# order (nflua first) the kernel takes the second registration, but a rule of IPv4 or IPv6
# still gets nflua's target: the kernel looks in the family's own list (nflua's) before the
# every-family one (xt_LUA's); the last step shows that with traffic. The real
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

step "the other order: nflua loaded, then the stand-in: rules still get nflua's target and match"
run nfluactl create order
run nfluactl execute order -e 'n = 0 function f(p) n = n + 1 return "continue" end function m(p) n = n + 100 return false end'
run ip link set lo up
run insmod "$ko"
assert_eq "$(count LUA /proc/net/ip_tables_targets)" 2 "two LUA targets registered (the kernel takes both)"
assert_eq "$(count LUA /proc/net/ip6_tables_targets)" 2 "two LUA targets (IPv6 view)"
# (echo requests only: on loopback the replies cross OUTPUT too)
run iptables -A OUTPUT -p icmp --icmp-type echo-request -d 127.0.0.2 -j LUA --state order --function f
run iptables -A OUTPUT -p icmp --icmp-type echo-request -d 127.0.0.2 -m lua --state order --function m -j ACCEPT
run ip6tables -A OUTPUT -p icmpv6 --icmpv6-type echo-request -d ::1 -j LUA --state order --function f
run ping -c 1 -W 2 127.0.0.2
run ping -c 1 -W 2 ::1
assert_eq "$(nfluactl execute order -e 'return n')" 102 "both IPv4 rules and the IPv6 rule called nflua's Lua"
run iptables -F OUTPUT
run ip6tables -F OUTPUT
step "the stand-in out again: nflua unaffected"
run rmmod xt_LUA_standin
assert_eq "$(count LUA /proc/net/ip_tables_targets)" 1 "nflua's LUA target"
run iptables -A OUTPUT -p icmp --icmp-type echo-request -d 127.0.0.2 -j LUA --state order --function f
run ping -c 1 -W 2 127.0.0.2
assert_eq "$(nfluactl execute order -e 'return n')" 103 "nflua's target still works"
run iptables -F OUTPUT
run nfluactl destroy order
