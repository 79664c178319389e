#!/bin/sh
# Self-check of the VM harness: both iptables backends, netns + veth traffic, capability drop,
# the real util-linux/iproute2/kmod tools. Needs no nflua module.
# timeout: 120
. /test/lib.sh

step "tools are the real ones"
run ip -V;                      assert_contains "$OUT" "iproute2" "ip is iproute2"
run modprobe --version;         assert_contains "$OUT" "kmod" "modprobe is kmod"
run setpriv --version;          assert_contains "$OUT" "util-linux" "setpriv is util-linux"
run unshare --version;          assert_contains "$OUT" "util-linux" "unshare is util-linux"
run nsenter --version;          assert_contains "$OUT" "util-linux" "nsenter is util-linux"
run iptables-legacy -V;         assert_contains "$OUT" "legacy" "iptables-legacy"
run iptables-nft -V;            assert_contains "$OUT" "nf_tables" "iptables-nft"
run capsh --print;              assert_contains "$OUT" "cap_net_admin" "capsh --print as root"

step "lib.sh: run / expect_fail / assert"
run sh -c 'echo out; echo err >&2'
assert_eq "$OUT" out "run captures stdout"
assert_eq "$ERR" err "run captures stderr"
expect_fail sh -c 'echo nope >&2; exit 3'
assert_eq "$ERR" nope "expect_fail captures stderr"
if (fail "inner" 2>/dev/null); then echo "fail did not exit non-zero" >&2; exit 1; fi

# pair NS_A NS_B IF_A IF_B NET: two namespaces joined by a veth, NET.1 and NET.2 (/24),
# plus fd00:NET6::1/2 for IPv6.
pair() {
    run ip netns add "$1"
    run ip netns add "$2"
    run ip link add "$3" type veth peer name "$4"
    run ip link set "$3" netns "$1"
    run ip link set "$4" netns "$2"
    run ip -n "$1" addr add "$5.1/24" dev "$3"
    run ip -n "$2" addr add "$5.2/24" dev "$4"
    run ip -n "$1" addr add "fd00:$6::1/64" dev "$3" nodad
    run ip -n "$2" addr add "fd00:$6::2/64" dev "$4" nodad
    for n in "$1" "$2"; do run ip -n "$n" link set lo up; done
    run ip -n "$1" link set "$3" up
    run ip -n "$2" link set "$4" up
}

for b in legacy nft; do
    case $b in legacy) net=10.99.1 net6=1 ;; nft) net=10.99.2 net6=2 ;; esac
    A=h0-$b-a B=h0-$b-b
    step "netns pair for $b: $A <-> $B"
    pair "$A" "$B" "va-$b" "vb-$b" "$net" "$net6"
    run ip netns exec "$A" ping -c 1 -W 2 "$net.2"
    assert_contains "$OUT" "1 packets received" "IPv4 ping across veth ($b)"
    run ip netns exec "$A" ping -c 1 -W 2 "fd00:$net6::2"
    assert_contains "$OUT" "1 packets received" "IPv6 ping across veth ($b)"

    for fam in iptables ip6tables; do
        ipt="$fam-$b"
        step "$ipt: add, list, delete a rule (stock matches)"
        rule="INPUT -p tcp --dport 1 -m comment --comment nflua-harness -j DROP"
        # shellcheck disable=SC2086
        run ip netns exec "$B" "$ipt" -A $rule
        run ip netns exec "$B" "$ipt-save"
        assert_contains "$OUT" "nflua-harness" "$ipt-save shows the rule"
        assert_contains "$OUT" "--dport 1" "$ipt-save shows the match"
        # shellcheck disable=SC2086
        run ip netns exec "$B" "$ipt" -D $rule
        run ip netns exec "$B" "$ipt" -S INPUT
        case $OUT in *nflua-harness*) fail "$ipt: rule still listed after -D" ;; esac
    done

    step "iptables-$b filters traffic"
    run ip netns exec "$B" "iptables-$b" -A INPUT -p tcp -m multiport --dports 1,2 -j ACCEPT
    run ip netns exec "$B" "iptables-$b" -A INPUT -p icmp -j DROP
    if [ $b = nft ]; then
        # an xt match under iptables-nft goes through nft_compat: its refcount proves the path
        refs=$(awk '$1 == "nft_compat" { print $3 }' /proc/modules)
        [ "${refs:-0}" -gt 0 ] || fail "nft_compat not in use by iptables-nft (refcount '${refs:-none}')"
    fi
    expect_fail ip netns exec "$A" ping -c 1 -W 1 "$net.2"
    run ip netns exec "$B" "iptables-$b" -F INPUT
    run ip netns exec "$A" ping -c 1 -W 2 "$net.2"
    run ip netns exec "$B" "ip6tables-$b" -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j DROP
    expect_fail ip netns exec "$A" ping -c 1 -W 1 "fd00:$net6::2"
    run ip netns exec "$B" "ip6tables-$b" -F INPUT
    run ip netns exec "$A" ping -c 1 -W 2 "fd00:$net6::2"
done

step "unshare / nsenter"
run unshare -n /usr/sbin/ip -o link
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "a fresh netns has only lo"
run nsenter --net=/run/netns/h0-legacy-a /usr/sbin/ip -o link show va-legacy
assert_contains "$OUT" "va-legacy" "nsenter into a named netns"

step "setpriv drops CAP_NET_ADMIN"
expect_fail setpriv --inh-caps=-all --bounding-set=-all /usr/sbin/ip link add h0x type veth peer name h0y
assert_contains "$ERR" "Operation not permitted" "ip link add without CAP_NET_ADMIN"
run setpriv --inh-caps=-all --bounding-set=-all /usr/sbin/capsh --print
assert_contains "$OUT" "Bounding set =" "capsh shows the bounding set"
assert_eq "$(printf '%s\n' "$OUT" | grep '^Current:')" "Current: =" "no capabilities left after setpriv"
expect_fail capsh --drop=cap_net_admin -- -c '/usr/sbin/ip link add h0x type veth peer name h0y'
/usr/sbin/ip link del h0x 2>/dev/null

step "modules"
run lsmod
for m in veth nf_tables nft_compat ip_tables; do
    assert_contains "$OUT" "$m" "module $m loaded"
done

for b in legacy nft; do run ip netns del "h0-$b-a"; run ip netns del "h0-$b-b"; done
echo "harness ok on $(uname -r)"
