#!/bin/sh
# rename FROM TO: a move, an exchange with a live state that a rule uses while packets run Lua
# (the rule keeps calling the state it holds, under its new name), errors (missing, onto itself,
# bad names on the wire), concurrent renames/creates/destroys against traffic (the registry never
# shows a name missing or twice), and network namespace separation.
# timeout: 360
. /test/lib.sh
W=$(mktemp -d /tmp/12.XXXXXX) || fail "mktemp"
IO=/test/tools/nflua-io
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT

# names: the state names of `nfluactl list`, one line each, in the order listed
names() {
    nfluactl list | sed 's/^name=\([^ ]*\) .*/\1/'
}

# get STATE EXPR: the value of a Lua expression in STATE
get() {
    run nfluactl execute "$1" -e "return $2"
    printf '%s' "$OUT"
}

step "move: a state takes a free name and keeps its globals"
run nfluactl create a
run nfluactl create b --budget 5000
run nfluactl execute a -e 'g = "A"'
run nfluactl execute b -e 'g = "B"'
run nfluactl rename a c
assert_eq "$(names | tr '\n' ' ')" "b c " "a is now c (the list stays sorted)"
assert_eq "$(get c g)" A "c has a's globals"
expect_rc 1 nfluactl execute a -e 'return 1'
assert_contains "$ERR" "no state named 'a'" "a is gone"

step "exchange: both names swap, limits and globals follow the state"
run nfluactl rename c b
assert_eq "$(names | tr '\n' ' ')" "b c " "still b and c"
assert_eq "$(get b g)" A "b is the former c"
assert_eq "$(get c g)" B "c is the former b"
run nfluactl stats c
assert_eq "$(field "$OUT" budget)" 5000 "the budget followed the state"
run nfluactl stats b
assert_eq "$(field "$OUT" name)" b "stats shows the new name"
assert_eq "$(get b nflua.state)" b "nflua.state is the new name"
assert_eq "$(get c nflua.state)" c "on both sides of the exchange"

step "errors: missing, onto itself, bad names (the tool and the wire)"
expect_rc 1 nfluactl rename nosuch x
assert_contains "$ERR" "no state named 'nosuch'" "ENOENT"
expect_rc 1 nfluactl rename b b
assert_contains "$ERR" "onto itself" "EINVAL for FROM == TO"
expect_rc 2 nfluactl rename b 'x/y'
expect_rc 2 nfluactl rename b ''
expect_rc 2 nfluactl rename b
assert_eq "$(names | tr '\n' ' ')" "b c " "nothing changed"
exec 3<>/dev/nflua || fail "open /dev/nflua"
# printf FORMAT; read one reply header
wire() {
    # shellcheck disable=SC2059
    printf "$@" >&3
    IFS= read -r HDR <&3 || fail "no reply"
    set -- $HDR
    _n=0
    shift
    for _l in "$@"; do _n=$((_n + _l)); done
    BODY=$(head -c "$_n" <&3)
}
wire 'rename 1 3\nba/b'
assert_eq "${HDR%% *}" 22 "EINVAL for '/' in TO ($BODY)"
wire 'rename 1 3\nba\000b'
assert_eq "${HDR%% *}" 22 "EINVAL for a NUL in TO ($BODY)"
wire 'rename 1 64\nb%064d' 0
assert_eq "${HDR%% *}" 22 "EINVAL for a 64-byte TO ($BODY)"
wire 'rename 0 1\nb'
assert_eq "${HDR%% *}" 22 "EINVAL for an empty FROM ($BODY)"
wire 'rename 1\nb'
assert_eq "${HDR%% *}" 22 "EINVAL for one field ($BODY)"
wire 'rename 1 1 1\nbcd'
assert_eq "${HDR%% *}" 22 "EINVAL for three fields ($BODY)"
wire 'rename 1 63\nb%063d' 0
assert_eq "$HDR" 0 "a 63-byte name is valid"
wire 'rename 63 1\n%063db' 0
assert_eq "$HDR" 0 "and back"
exec 3<&-
run nfluactl destroy b
run nfluactl destroy c

step "exchange under a rule while packets run Lua: the rule keeps the state it holds"
run ip link set lo up
run nfluactl create web
run nfluactl execute web -e 'n = 0 ver = "old" function f(p) n = n + 1 return false end'
run iptables-nft -A OUTPUT -p udp -d 127.0.0.9 -m lua --state web --function f -j ACCEPT
$IO flood 127.0.0.9 9 600 >/dev/null &
flood=$!
i=0
while [ "$(get web n)" -lt 50 ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "no packets through the rule (n=$(get web n))"
    sleep 0.1
done
run nfluactl create 'web~new'
run nfluactl execute 'web~new' -e 'm = 0 ver = "new" function f(p) m = m + 1 return false end'
run nfluactl rename 'web~new' web
assert_eq "$(get web ver)" new "web is the new state"
assert_eq "$(get 'web~new' ver)" old "web~new is the old state"
n1=$(get 'web~new' n)
sleep 0.5
n2=$(get 'web~new' n)
[ "$n2" -gt "$n1" ] || fail "the rule stopped calling the state it holds (n $n1 -> $n2)"
assert_eq "$(get web m)" 0 "no packet reached the new state through the old rule"
run nfluactl stats 'web~new'
assert_eq "$(field "$OUT" rules)" 1 "the rule count stays with the old state"
expect_rc 1 nfluactl destroy 'web~new'
assert_contains "$ERR" "iptables rule" "the old state is still in use"
# a rule added now finds the new state by name; the old rule is deleted
run iptables-nft -I OUTPUT 1 -p udp -d 127.0.0.9 -m lua --state web --function f -j ACCEPT
run iptables-nft -D OUTPUT 2
i=0
while ! nfluactl destroy 'web~new' 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "the old state stays busy after its rule was deleted"
    sleep 0.1
done
m1=$(get web m)
sleep 0.5
[ "$(get web m)" -gt "$m1" ] || fail "the new rule does not call the new state"

step "the same with iptables-legacy (a legacy table change re-finds every rule's state by name)"
run iptables-legacy -A OUTPUT -p udp -d 127.0.0.9 -m lua --state web --function f -j ACCEPT
run nfluactl create 'web~new'
run nfluactl execute 'web~new' -e 'k = 0 ver = "newer" function f(p) k = k + 1 return false end'
run nfluactl rename 'web~new' web
m1=$(get 'web~new' m)
sleep 0.5
[ "$(get 'web~new' m)" -gt "$m1" ] || fail "legacy rule stopped calling the state it holds"
assert_eq "$(get web k)" 0 "no packet reached the newest state"
run iptables-legacy -D OUTPUT 1
run iptables-nft -D OUTPUT 1
for s in 'web~new' web; do
    i=0
    while ! nfluactl destroy "$s" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 50 ] || fail "state $s stays busy after its rules were deleted"
        sleep 0.1
    done
done

step "concurrent exchanges, creates, renames and destroys against traffic"
# x and y each hold a rule: their destroys are refused whatever their names are then
run nfluactl create x
run nfluactl execute x -e 'function f(p) return false end'
run nfluactl create y
run nfluactl execute y -e 'function f(p) return false end'
run iptables-nft -A OUTPUT -p udp -d 127.0.0.9 -m lua --state x --function f -j ACCEPT
run iptables-nft -A OUTPUT -p udp -d 127.0.0.9 -m lua --state y --function f -j ACCEPT
/bin/sh -c 'i=0; while [ $i -lt 80 ]; do /usr/sbin/nfluactl rename x y; i=$((i+1)); done' \
    >/dev/null 2>"$W/r1" &
r1=$!
/bin/sh -c 'i=0; while [ $i -lt 80 ]; do /usr/sbin/nfluactl rename y x; i=$((i+1)); done' \
    >/dev/null 2>"$W/r2" &
r2=$!
/bin/sh -c 'i=0; while [ $i -lt 40 ]; do /usr/sbin/nfluactl create t 2>/dev/null;
    /usr/sbin/nfluactl rename t u; /usr/sbin/nfluactl destroy u; i=$((i+1)); done' \
    >/dev/null 2>"$W/r3" &
r3=$!
/bin/sh -c 'i=0; while [ $i -lt 80 ]; do /usr/sbin/nfluactl destroy x; /usr/sbin/nfluactl destroy y;
    i=$((i+1)); done' >/dev/null 2>"$W/r4" &
r4=$!
bad=0
while kill -0 $r1 2>/dev/null || kill -0 $r2 2>/dev/null || kill -0 $r3 2>/dev/null; do
    l=$(names | grep -v '^[tu]$' | tr '\n' ' ')
    [ "$l" = "x y " ] || { bad=1; echo "list showed: $l"; }
    [ "$(names | grep -c '^[tu]$')" -le 1 ] || { bad=1; echo "t and u at once"; }
done
wait $r1 $r2 $r3 $r4
assert_eq "$bad" 0 "the list always showed x and y once each"
grep -v "iptables rule\|no state named" "$W/r1" "$W/r2" "$W/r3" "$W/r4" && fail "unexpected errors"
assert_eq "$(names | tr '\n' ' ')" "x y " "x and y remain"
rules=$(nfluactl list | sed -n 's/.* rules=\([0-9]*\).*/\1/p' | tr '\n' ' ')
assert_eq "$rules" "1 1 " "each state still counts its rule"
run iptables-nft -D OUTPUT 1
run iptables-nft -D OUTPUT 1
kill $flood 2>/dev/null
wait $flood 2>/dev/null

step "network namespaces are separate"
run ip netns add r1
run ip netns exec r1 nfluactl create x
run ip netns exec r1 nfluactl execute x -e 'g = "ns"'
run ip netns exec r1 nfluactl rename x z
assert_eq "$(names | tr '\n' ' ')" "x y " "the initial namespace is untouched"
expect_rc 1 ip netns exec r1 nfluactl rename y q
assert_contains "$ERR" "no state named 'y'" "another namespace's state is not found"
run ip netns exec r1 nfluactl list
assert_contains "$OUT" "name=z " "z in r1"
run ip netns del r1
i=0
while ! nfluactl destroy x 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "x stays busy"
    sleep 0.1
done
run nfluactl destroy y
run nfluactl stats
assert_contains "$OUT" "states=0" "no states left"
