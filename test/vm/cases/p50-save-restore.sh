#!/bin/sh
# Rules with the lua match and LUA target through the iptables tools, for iptables and
# ip6tables, legacy and nft: -S and -save print every option; save, flush, restore, save gives
# the same rules; the state's `rules` count follows every step (restore replaces, it does not
# add); destroying the state is refused (exit 1, naming the rules) while rules use it and allowed
# after the flush; a rule naming a missing state is refused when it is added.
# timeout: 120
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh
# shellcheck source=test/vm/cases/p00-net.sh
. /test/cases/p00-net.sh

F='function check_ua(p) return false end
function verdict(p) return "continue" end'

RULES='-A INPUT -m lua --state web ! --function check_ua
-A FORWARD -p tcp -m tcp --dport 80 -m lua --state web --function check_ua --tcp-payload -j DROP
-A FORWARD -p tcp -m tcp --dport 443 -j LUA --state web --function verdict
-A OUTPUT -p udp -m udp --dport 53 -m lua --state web --function check_ua -j LUA --state web --function verdict'

# save IPT FILE: the filter table as saved, without comments and counters
save() {
    "$1-save" -t filter >"$2.raw" 2>/dev/null || fail "$1-save failed"
    grep -v '^#' "$2.raw" | sed 's/ \[[0-9]*:[0-9]*\]$//' >"$2"
}

rules() { stats web; printf '%s' "$ST_rules"; }

for ipt in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
    step "$ipt"
    run nfluactl create web
    run nfluactl execute web -e "$F"
    # rules are added as -S prints them, so -S must give them back word for word
    printf '%s\n' "$RULES" >/tmp/rules
    while read -r line; do
        # shellcheck disable=SC2086 # split the rule into words
        $ipt $line || fail "$ipt $line"
    done </tmp/rules
    # the last rule holds the state twice (match and target)
    assert_eq "$(rules)" 5 "$ipt: rules holding web"
    run $ipt -S
    echo "$OUT"
    assert_eq "$(printf '%s\n' "$OUT" | grep -e lua -e LUA)" "$RULES" "$ipt -S"

    save $ipt /tmp/s1
    cat /tmp/s1
    assert_eq "$(grep -e lua -e LUA /tmp/s1)" "$RULES" "$ipt-save"

    step "$ipt: destroy refused while rules use the state"
    rc=0
    nfluactl destroy web 2>/tmp/err || rc=$?
    cat /tmp/err
    assert_eq "$rc" 1 "$ipt: nfluactl destroy exit status with rules"
    assert_contains "$(cat /tmp/err)" "used by 5 iptables rules" "$ipt: destroy message"

    step "$ipt: flush, restore, save"
    run $ipt -F
    assert_eq "$(rules)" 0 "$ipt: rules after the flush"
    run $ipt-restore /tmp/s1
    assert_eq "$(rules)" 5 "$ipt: rules after the restore"
    save $ipt /tmp/s2
    cmp -s /tmp/s1 /tmp/s2 || { diff /tmp/s1 /tmp/s2; fail "$ipt: save after restore differs"; }
    step "$ipt: restore over the same rules replaces them"
    run $ipt-restore /tmp/s1
    assert_eq "$(rules)" 5 "$ipt: rules after a second restore"
    save $ipt /tmp/s3
    cmp -s /tmp/s1 /tmp/s3 || { diff /tmp/s1 /tmp/s3; fail "$ipt: save after the second restore differs"; }
    step "$ipt: deleting rules one by one"
    run $ipt -D FORWARD 2
    assert_eq "$(rules)" 4 "$ipt: rules after -D"
    run $ipt -D OUTPUT 1
    assert_eq "$(rules)" 2 "$ipt: rules after deleting the match+target rule"

    step "$ipt: a rule naming a missing state is refused"
    expect_fail $ipt -A INPUT -m lua --state nosuch --function check_ua
    expect_fail $ipt -A INPUT -j LUA --state nosuch --function verdict
    run $ipt -S INPUT
    case $OUT in *nosuch*) fail "$ipt: a rule with a missing state was added: $OUT" ;; esac
    # a restore naming a missing state fails and keeps the table as it was
    sed 's/--state web/--state nosuch/' /tmp/s1 >/tmp/s4
    expect_fail $ipt-restore /tmp/s4
    assert_eq "$(rules)" 2 "$ipt: rules after a refused restore"

    step "$ipt: destroy allowed after the flush"
    run $ipt -F
    assert_eq "$(rules)" 0 "$ipt: rules after the last flush"
    run nfluactl destroy web
    expect_fail nfluactl stats web
done
