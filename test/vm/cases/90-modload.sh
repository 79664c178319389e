#!/bin/sh
# 50 rounds of insmod / states / rmmod: unloading frees the states of every namespace, leaks
# nothing (the module logs "nflua: BUG: leaked N bytes" otherwise), and the device comes back.
# timeout: 600
. /test/lib.sh

# module_stat KEY: one module-wide counter (stats without a name)
module_stat() {
    run nfluactl stats
    printf '%s\n' "$OUT" | sed -n "s/^$1=//p"
}

KO=/lib/modules/$(uname -r)/extra/nflua.ko
[ -f "$KO" ] || fail "no $KO"
TAB=$(printf '\t')

step "before the first round"
assert_eq "$(module_stat all_states)" 0 "an earlier case left states behind"
mem0=$(module_stat all_mem)
run ip netns add keep
dmesg -c >/dev/null

round=1
while [ $round -le 50 ]; do
    [ $((round % 10)) != 1 ] || step "round $round"
    run rmmod nflua
    [ ! -e /dev/nflua ] || fail "round $round: /dev/nflua still there after rmmod"
    if [ $round = 1 ]; then
        expect_rc 3 nfluactl list
        assert_contains "$ERR" "modprobe nflua" "nfluactl says how to load the module"
    fi
    run insmod "$KO"
    [ -c /dev/nflua ] || fail "round $round: no /dev/nflua after insmod"
    for s in s1 s2 s3; do
        run nfluactl create $s --maxalloc 2M
        run nfluactl execute $s -e "t = {} for i = 1, 1000 do t[i] = tostring(i) end name = '$s' return #t, name"
        assert_eq "$OUT" "1000${TAB}$s" "round $round: execute in $s"
    done
    run nfluactl execute s1 -e 'for i = 1, 10 do nflua.send("message " .. i) end'
    run nfluactl destroy s3
    # a state in a namespace that lives on, and one in a namespace that dies now
    run ip netns exec keep sh -c 'nfluactl create k1 &&
        nfluactl execute k1 -e "nflua.send(\"queued in keep\") t = string.rep(\"k\", 10000)"'
    run unshare -n sh -c 'nfluactl create u1 && nfluactl execute u1 -e "x = {}"'
    [ "$(module_stat states)" = 2 ] || fail "round $round: states=$(module_stat states)"
    round=$((round + 1))
done
run rmmod nflua
run insmod "$KO"

step "after 50 rounds"
assert_eq "$(module_stat all_states)" 0 "no states after a fresh load"
assert_eq "$(module_stat all_mem)" "$mem0" "all_mem as before the first round"
log=$(dmesg)
case $log in
*"nflua: BUG"* | *leaked*) fail "unload reported leaks: $(printf '%s\n' "$log" | grep -e BUG -e leaked | head -n 3)" ;;
esac
run ip netns del keep
