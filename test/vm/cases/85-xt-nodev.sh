#!/bin/sh
# The lua match and LUA target where /dev/nflua is not visible (a mount namespace with its own
# /dev): valid rules are added, a missing state is still refused (by the kernel).
# timeout: 120
. /test/lib.sh

run nfluactl create web
run nfluactl execute web -e 'function f(p) return false end function v(p) return "continue" end'
for ipt in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
    step "$ipt in a mount namespace with an empty /dev"
    run unshare -m sh -c "mount -t tmpfs none /dev && [ ! -e /dev/nflua ] &&
        $ipt -A INPUT -m lua --state web --function f &&
        $ipt -A INPUT -j LUA --state web --function v"
    run "$ipt" -S INPUT
    assert_contains "$OUT" "-A INPUT -m lua --state web --function f" "$ipt: the match rule"
    assert_contains "$OUT" "-A INPUT -j LUA --state web --function v" "$ipt: the target rule"
    expect_fail unshare -m sh -c "mount -t tmpfs none /dev && $ipt -A INPUT -m lua --state nosuch --function f"
    expect_fail unshare -m sh -c "mount -t tmpfs none /dev && $ipt -A INPUT -j LUA --state nosuch --function v"
    run "$ipt" -S INPUT
    case $OUT in *nosuch*) fail "$ipt: a rule naming a missing state was added: $OUT" ;; esac
    run "$ipt" -F INPUT
done
dmesg | grep -q "no state named 'nosuch'" || fail "the kernel did not log the refusal"
run nfluactl destroy web
