#!/bin/sh
# nflua states: create, list, execute, stats, destroy; a 1 MiB chunk.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/10.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

TAB=$(printf '\t')

step "no states at start"
run nfluactl list
assert_eq "$OUT" "" "list with no states"

step "create with defaults and with options"
run nfluactl create web
assert_eq "$OUT$ERR" "" "create prints nothing"
run nfluactl create web2 --maxalloc 2M --budget 5000
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 2 "two lines"
l1=$(printf '%s\n' "$OUT" | sed -n 1p)
l2=$(printf '%s\n' "$OUT" | sed -n 2p)
assert_eq "$(field "$l1" name)" web "first line is web (sorted by name)"
assert_eq "$(field "$l1" maxalloc)" 1048576 "default maxalloc"
assert_eq "$(field "$l1" budget)" 100000 "default budget"
assert_eq "$(field "$l2" name)" web2 "second line is web2"
assert_eq "$(field "$l2" maxalloc)" 2097152 "maxalloc 2M"
assert_eq "$(field "$l2" budget)" 5000 "budget 5000"
for l in "$l1" "$l2"; do
    mem=$(field "$l" mem)
    case $mem in '' | *[!0-9]*) fail "mem is not a number in: $l" ;; esac
    [ "$mem" -gt 0 ] || fail "mem is 0 for a state with its libraries loaded: $l"
    [ "$mem" -le "$(field "$l" maxalloc)" ] || fail "mem over maxalloc: $l"
done

step "execute returns values as Lua's print would show them"
run nfluactl execute web -e 'return 1+1, "x"'
assert_eq "$OUT" "2${TAB}x" "return 1+1, \"x\""
run nfluactl execute web -e 'local a = 1'
assert_eq "$OUT" "" "no results, no output"
run nfluactl execute web -e 'return nil, true, false, -3'
assert_eq "$OUT" "nil${TAB}true${TAB}false${TAB}-3" "nil, booleans and negative integers"
run nfluactl execute web -e 'counter = 41'
run nfluactl execute web -e 'counter = counter + 1 return counter'
assert_eq "$OUT" 42 "globals persist between executes"
run nfluactl execute web2 -e 'return counter'
assert_eq "$OUT" nil "states do not share globals"

step "binary-safe chunks and results"
printf 'return "a\000b\377", #"a\000b\377"' >"$W/bin.lua"
nfluactl execute web "$W/bin.lua" >"$W/bin.out" || fail "execute of a chunk with NUL bytes failed"
assert_eq "$(od -An -c "$W/bin.out" | tr -s ' ')" " a \\0 b 377 \\t 4 \\n" "NUL and 0xff bytes survive both ways"

step "stats of a state"
run nfluactl stats web
assert_eq "$(field "$OUT" name)" web "stats name"
assert_eq "$(field "$OUT" maxalloc)" 1048576 "stats maxalloc"
assert_eq "$(field "$OUT" errors)" 0 "no errors yet"
calls=$(field "$OUT" calls)
[ "${calls:-0}" -ge 6 ] || fail "stats calls=$calls after 6 executes"
for k in mem peak budget rules budget_hits alloc_fails queued dropped; do
    v=$(field "$OUT" $k)
    case $v in '' | *[!0-9]*) fail "stats: $k is '$v' in: $OUT" ;; esac
done

step "a 1 MiB chunk in a state with maxalloc 32 MiB"
run nfluactl create big --maxalloc 32M --budget 10000000
awk 'BEGIN { print "local t = {}"
             for (i = 1; i <= 80000; i++) printf "t[%d]=%d\n", i, i
             print "local s = 0 for i = 1, #t do s = s + t[i] end return #t, s" }' >"$W/big.lua"
size=$(wc -c <"$W/big.lua")
[ "$size" -ge 1048576 ] || fail "generated chunk is only $size bytes"
run nfluactl execute big "$W/big.lua"
assert_eq "$OUT" "80000${TAB}3200040000" "1 MiB chunk ran completely"
run nfluactl stats big
[ "$(field "$OUT" peak)" -le 33554432 ] || fail "peak over maxalloc: $OUT"

step "destroy"
for s in web web2 big; do
    run nfluactl destroy "$s"
done
run nfluactl list
assert_eq "$OUT" "" "list after destroy"
expect_rc 1 nfluactl destroy web
assert_contains "$ERR" "nfluactl: destroy web: " "destroy of a missing state names it"
expect_rc 1 nfluactl execute web -e 'return 1'
expect_rc 1 nfluactl stats web

step "a destroyed name can be created again, empty"
run nfluactl create web
run nfluactl execute web -e 'return counter'
assert_eq "$OUT" nil "a new state starts empty"
run nfluactl destroy web
