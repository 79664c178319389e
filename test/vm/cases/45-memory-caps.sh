#!/bin/sh
# Module-wide limits: max_mem caps what all states together allocate, max_states caps the
# states of one network namespace; both refusals carry a clear message.
# timeout: 300
. /test/lib.sh
P=/sys/module/nflua/parameters

# module_stat KEY: one module-wide counter (stats without a name)
module_stat() {
    run nfluactl stats
    printf '%s\n' "$OUT" | sed -n "s/^$1=//p"
}

step "defaults: max_mem is an eighth of RAM, max_states 64"
[ -r $P/max_mem ] || fail "no max_mem parameter"
[ -r $P/max_states ] || fail "no max_states parameter"
ram=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
mm=$(cat $P/max_mem)
# the module stays loaded for the next cases: put the limits back however this one ends
trap 'echo "$mm" >$P/max_mem; echo 64 >$P/max_states' EXIT
# an eighth of the pages (MemTotal is totalram), rounded down to a page
d=$((ram * 1024 / 8 - mm))
[ "$d" -ge 0 ] && [ "$d" -lt 4096 ] || fail "max_mem=$mm is not an eighth of MemTotal ${ram} kB"
assert_eq "$(cat $P/max_states)" 64 "max_states"
run nfluactl stats
assert_contains "$OUT" "max_mem=$mm" "stats shows max_mem"

step "max_states: the fourth state of a namespace is refused, other namespaces are not"
echo 3 >$P/max_states || fail "set max_states"
run nfluactl create a
run nfluactl create b
run nfluactl create c
expect_rc 1 nfluactl create d
assert_eq "$ERR" "nfluactl: create d: this network namespace has 3 states, the most max_states=3 allows" "message"
run unshare -n sh -c 'nfluactl create d && nfluactl list'
assert_contains "$OUT" "name=d " "another namespace has its own count"
run nfluactl destroy c
run nfluactl create d
echo 64 >$P/max_states || fail "restore max_states"
run nfluactl destroy a
run nfluactl destroy b
run nfluactl destroy d

step "max_states 400: 300 states, and list shows every one (more than 256 fields in a reply)"
echo 400 >$P/max_states || fail "set max_states"
# many OP: OP (create or destroy) of many1..many300 on one descriptor, the protocol by hand
# (docs/protocol.md), with shell builtins only: a process per state would take a minute here
many() {
    exec 3<>/dev/nflua || fail "open /dev/nflua"
    i=1
    while [ $i -le 300 ]; do
        printf '%s %d\nmany%d' "$1" $((4 + ${#i})) $i >&3
        IFS= read -r reply <&3
        [ "$reply" = 0 ] || fail "$1 many$i: reply '$reply'"
        i=$((i + 1))
    done
    exec 3<&-
}
many create
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | grep -c '^name=many')" 300 "states listed"
assert_contains "$OUT" "name=many300 " "the last one too"
many destroy
echo 64 >$P/max_states || fail "restore max_states"

step "max_mem: an allocation past it fails, the message names it; the state keeps working"
run nfluactl create big --maxalloc 64M --budget 10000000
used=$(module_stat states_mem)
[ -n "$used" ] && [ "$used" -gt 0 ] || fail "stats has no states_mem ($used)"
echo $((used + 4194304)) >$P/max_mem || fail "set max_mem"
expect_rc 1 nfluactl execute big -e 'local t = {} for i = 1, 1000000000 do t[i] = string.rep("x", 1000) .. i end'
assert_contains "$ERR" "not enough memory" "Lua's memory error"
assert_contains "$ERR" "max_mem=$((used + 4194304))" "the message names max_mem"
run nfluactl stats big
assert_contains "$OUT" "maxalloc=67108864" "maxalloc unchanged"
[ "$(module_stat states_mem)" -le $((used + 4194304)) ] || fail "states_mem over max_mem"
run nfluactl execute big -e 'collectgarbage() return 1 + 1'
assert_eq "$OUT" 2 "the state works after the refusal"

step "max_mem: a state that cannot get its libraries is refused at create"
echo "$(module_stat states_mem)" >$P/max_mem || fail "set max_mem to the memory in use"
expect_rc 1 nfluactl create small
assert_contains "$ERR" "nfluactl: create small: " "prefix"
assert_contains "$ERR" "max_mem" "create's message names max_mem"
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 1 "only big exists"
echo "$mm" >$P/max_mem || fail "restore max_mem"
run nfluactl create small
run nfluactl destroy small
run nfluactl destroy big
assert_eq "$(module_stat states_mem)" 0 "no Lua memory left"
