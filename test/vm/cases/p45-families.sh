#!/bin/sh
# The match "lua" and target "LUA" exist for IPv4 and IPv6 only. The bridge and ARP families
# give verdicts other meanings (XT_CONTINUE is EBT_ACCEPT, legacy ebtables reads NF_DROP and
# NF_ACCEPT as chain offsets) and carry packets the Lua packet object cannot parse (bridged IPv4
# would be read as IPv6; "reset" on a bridged skb has no route). User-space tools refuse such
# rules before asking the kernel, so /test/tools/nftcompat asks the kernel itself: an nf_tables
# rule with the compat expression match lua / target LUA in families bridge and arp must be
# refused by the kernel (no such match or target there: ENOENT); in ip and ip6 (the control)
# it must be accepted. The commands users would type (ebtables-nft, arptables-nft) fail too.
# timeout: 90
. /test/lib.sh

run nfluactl create fam
run nfluactl execute fam -e 'function f(p) return false end function v(p) return "continue" end'
modprobe bridge 2>/dev/null
modprobe nf_tables_bridge 2>/dev/null

rules() { nfluactl list | sed -n 's/^name=fam .* rules=\([0-9]*\) .*/\1/p'; }

for fam in ip ip6; do
    step "kernel accepts lua/LUA in family $fam (control)"
    run /test/tools/nftcompat "$fam" match fam f
    run /test/tools/nftcompat "$fam" target fam v
done
for fam in bridge arp; do
    step "kernel refuses lua/LUA in family $fam"
    expect_rc 1 /test/tools/nftcompat "$fam" match fam f
    assert_contains "$ERR" "refused: No such file or directory" "match lua in family $fam"
    expect_rc 1 /test/tools/nftcompat "$fam" target fam v
    assert_contains "$ERR" "refused: No such file or directory" "target LUA in family $fam"
done
assert_eq "$(rules)" 0 "rules holding the state after the tool's tables are gone"

step "what users would type: ebtables-nft, arptables-nft"
expect_fail ebtables-nft -A FORWARD -j LUA --state fam --function v
expect_fail ebtables-nft -A FORWARD -m lua --state fam --function f
expect_fail arptables-nft -A INPUT -j LUA --state fam --function v
expect_fail arptables-nft -A INPUT -m lua --state fam --function f
assert_eq "$(rules)" 0 "rules holding the state"

step "iptables and ip6tables still load the extensions (legacy and nft)"
for ipt in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
    run "$ipt" -A FORWARD -m lua --state fam --function f -j LUA --state fam --function v
    run "$ipt" -S FORWARD
    assert_contains "$OUT" "-m lua --state fam --function f -j LUA --state fam --function v" "$ipt -S"
    run "$ipt" -F FORWARD
done
run nfluactl destroy fam
