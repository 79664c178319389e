#!/bin/sh
# The iptables extensions against the real module: a missing state refused with a message,
# flags reach the kernel, rules hold their state, on iptables and ip6tables, legacy and nft.
# (Every line of libxt_lua/libxt_lua.t: p07-xt-table, out of COMPAT_CASES for its 360 iptables
# processes.)
# timeout: 600
. /test/lib.sh
xt_table_states create

refs() { nfluactl list | sed -n "s/^name=$1 .* rules=\([0-9]*\) .*/\1/p"; }

for ipt in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
    step "$ipt: a rule naming a missing state is refused with a message"
    expect_fail $ipt -A INPUT -m lua --state nosuch --function f
    assert_contains "$ERR" 'no state named "nosuch"' "$ipt: missing state message"
    expect_fail $ipt -A INPUT -j LUA --state nosuch --function f
    assert_contains "$ERR" "nfluactl create nosuch" "$ipt: how to create it"
done

ip link set lo up
for ipt in iptables-legacy iptables-nft; do
    step "$ipt: flags reach the kernel (OUTPUT on lo, ICMP)"
    run $ipt -F OUTPUT
    run $ipt -A OUTPUT -o lo -p icmp -m lua --state web --function yes
    run $ipt -A OUTPUT -o lo -p icmp -m lua --state web ! --function yes
    run $ipt -A OUTPUT -o lo -p icmp -m lua --state web ! --function no
    run $ipt -A OUTPUT -o lo -p icmp -m lua --state web --function yes --tcp-payload
    run $ipt -A OUTPUT -o lo -p icmp -j LUA --state web --function verdict
    assert_eq "$(refs web)" 5 "$ipt: rules holding web"
    run ping -c 2 -W 1 127.0.0.1
    run $ipt -L OUTPUT -v -x -n
    echo "$OUT"
    got=$(echo "$OUT" | awk 'NR > 2 { printf "%s ", $1 }')
    # 2 echo requests + 2 replies leave through lo
    assert_eq "$got" "4 0 4 0 4 " "$ipt: packet counts of yes, !yes, !no, yes+tcp-payload, LUA"
    expect_fail nfluactl destroy web
    run $ipt -F OUTPUT
    assert_eq "$(refs web)" 0 "$ipt: rules holding web after flush"
done

run nfluactl list
echo "$OUT"
xt_table_states destroy
