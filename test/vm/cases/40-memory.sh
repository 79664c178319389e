#!/bin/sh
# Allocation bombs end in "not enough memory" without passing maxalloc; the state keeps working.
# timeout: 120
. /test/lib.sh

# stat STATE KEY: one counter of the state
stat() {
    run nfluactl stats "$1"
    printf '%s\n' "$OUT" | sed -n "s/^$2=//p"
}

# raw REQUEST: writes REQUEST (printf %b escapes) on a fresh descriptor; sets $HDR and $BODY
raw() {
    exec 5<>/dev/nflua || fail "cannot open /dev/nflua"
    printf '%b' "$1" >&5
    IFS= read -r HDR <&5 || fail "no reply to: $1"
    # shellcheck disable=SC2086
    set -- $HDR
    BODY=$(head -c "${2:-0}" <&5)
    exec 5<&-
}

MAX=4194304
# On a slower kernel (nflua.timescale: the debug kernel, where an allocation costs up to a
# millisecond under TCG) the bombs get a smaller heap: with 4M the ~200,000 allocations of
# the string bomb ran past the call's 15 s time limit before "not enough memory".
case " $(cat /proc/cmdline) " in
*" nflua.timescale=1 "*) ;;
*" nflua.timescale="*) MAX=131072 ;;
esac
run nfluactl create mem --maxalloc $MAX --budget 10000000

for code in \
    'local t = {} for i = 1, 1000000000 do t[i] = i end' \
    "string.rep('x', 1 << 30)" \
    "local s = 'x' while true do s = s .. s end" \
    'local t = {} for i = 1, 1000000000 do t[i] = tostring(i) .. "abcdefghij" end' \
    'local t = {} for i = 1, 1000000000 do t["k" .. i] = {} end' \
    "local t = {} for i = 1, 1000000000 do t[i] = coroutine.create(print) end" \
    "return table.concat({string.rep('x', 1 << 20), string.rep('y', 1 << 20), string.rep('z', 1 << 20)})"
do
    step "bomb: $code"
    expect_rc 1 nfluactl execute mem -e "$code"
    assert_contains "$ERR" "not enough memory" "memory error for: $code"
    mem=$(stat mem mem)
    peak=$(stat mem peak)
    [ "$mem" -le $MAX ] || fail "mem=$mem over maxalloc $MAX"
    [ "$peak" -le $MAX ] || fail "peak=$peak over maxalloc $MAX"
    run nfluactl execute mem -e 'collectgarbage() local t = {} for i = 1, 100 do t[i] = i end return #t'
    assert_eq "$OUT" 100 "state works after: $code"
    mem=$(stat mem mem)
    [ "$mem" -lt 1048576 ] || fail "mem=$mem still high after collectgarbage"
done
fails=$(stat mem alloc_fails)
[ "${fails:-0}" -ge 7 ] || fail "alloc_fails=$fails after 7 bombs"

step "a maxalloc too small or too large is refused with EINVAL"
expect_rc 1 nfluactl create small --maxalloc 1000
assert_contains "$ERR" "nfluactl: create small: " "message for maxalloc 1000"
raw 'create 5 13\nsmallmaxalloc=1000'
assert_eq "${HDR%% *}" 22 "errno for maxalloc=1000 ($BODY)"
[ -n "$BODY" ] || fail "no message for maxalloc=1000"
expect_rc 1 nfluactl create large --maxalloc 257M
raw 'create 5 18\nlargemaxalloc=269484032'
assert_eq "${HDR%% *}" 22 "errno for maxalloc=257M ($BODY)"
run nfluactl list
assert_eq "$OUT" "$(printf '%s\n' "$OUT" | grep '^name=mem ')" "no other state was created"

step "set --maxalloc below the memory in use is refused"
if [ "$MAX" != 4194304 ]; then
    MAX=4194304
    run nfluactl set mem --maxalloc $MAX
fi
run nfluactl execute mem -e 'keep = string.rep("k", 300000)'
expect_rc 1 nfluactl set mem --maxalloc 65536
assert_eq "$(stat mem maxalloc)" $MAX "maxalloc unchanged"
run nfluactl execute mem -e 'keep = nil collectgarbage() return 1'

run nfluactl destroy mem
