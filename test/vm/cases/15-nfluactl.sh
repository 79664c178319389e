#!/bin/sh
# The router-side nfluactl (busybox sh) against the real device: options, units, stdin,
# binary data, send/receive, JSON, exit codes.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/15.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

TAB=$(printf '\t')

step "help and version"
run nfluactl --help
assert_contains "$OUT" "Exit codes:" "main help lists exit codes"
for c in create destroy list execute send receive stats set version; do
    run nfluactl "$c" --help
    assert_contains "$OUT" "Usage: nfluactl $c" "help of $c"
    assert_contains "$OUT" "xample" "help of $c has an example"
done
run nfluactl version
assert_eq "$(printf '%s\n' "$OUT" | wc -l)" 2 "version prints two lines"
assert_contains "$OUT" "nflua " "module version"

step "usage errors exit 2 and send nothing"
expect_rc 2 nfluactl
expect_rc 2 nfluactl frob
expect_rc 2 nfluactl create
expect_rc 2 nfluactl create 'a/b'
expect_rc 2 nfluactl create "$(printf '%64s' '' | tr ' ' x)"
expect_rc 2 nfluactl create x --maxalloc 1X
expect_rc 2 nfluactl create x --budget -5
expect_rc 2 nfluactl create x --color 1
expect_rc 2 nfluactl execute x
expect_rc 2 nfluactl execute x /nonexistent.lua
expect_rc 2 nfluactl set x
run nfluactl list
assert_eq "$OUT" "" "no state was created"

step "units: K, M, G; leading zeros are decimal"
run nfluactl create u --maxalloc 2M --budget 0100000
run nfluactl stats u
assert_contains "$OUT" "maxalloc=2097152" "2M"
assert_contains "$OUT" "budget=100000" "0100000 is decimal"
run nfluactl set u --maxalloc 3072k
run nfluactl stats u
assert_contains "$OUT" "maxalloc=3145728" "3072k"
expect_rc 1 nfluactl set u --maxalloc 1G
assert_contains "$ERR" "nfluactl: set u: " "1G is over the module's maximum"

step "chunks from stdin and files keep every byte"
printf 'return "a\000b\377", 7' | nfluactl execute u - >"$W/o" || fail "execute from stdin"
assert_eq "$(od -An -c "$W/o" | tr -s ' ')" " a \\0 b 377 \\t 7 \\n" "NUL and 0xff from stdin"
printf 'return ...' >"$W/dots.lua"
run nfluactl execute u "$W/dots.lua"
assert_eq "$OUT" "" "a chunk gets no arguments"

step "fields: sizes of non-ASCII code, results split in one pass or field by field"
# (the tool sizes ASCII text with ${#v} and anything else with wc; it prints many fields with
# one awk when the reply is one line of single bytes, else field by field: each way exact)
run nfluactl execute u -e 'return "\u{E9}\u{20AC}", #"é€"'
assert_eq "$OUT" "$(printf '\303\251\342\202\254\t5')" "non-ASCII code sized in bytes"
run nfluactl execute u -e "$(printf 'local x = 1\n\treturn x, "tab\\t"')"
assert_eq "$OUT" "$(printf '1\ttab\t')" "tabs and newlines in the code"
run nfluactl execute u -e 'return "x", "y z", 12, "", "w"'
assert_eq "$OUT" "$(printf 'x\ty z\t12\t\tw')" "five single-line fields (one pass)"
run nfluactl execute u -e 'return "a\nb", "\u{E9}", 3'
assert_eq "$OUT" "$(printf 'a\nb\t\303\251\t3')" "a field with a newline (field by field)"
nfluactl execute u -e 'return "a\0b", 1, 2' >"$W/o" || fail "execute with a NUL"
assert_eq "$(od -An -c "$W/o" | tr -s ' ')" " a \\0 b \t 1 \t 2 \n" "a NUL in a field (field by field)"
for n in 1 2 3 4 5; do run nfluactl create "many$n"; done
run nfluactl list
assert_eq "$(printf '%s\n' "$OUT" | grep -c '^name=many[1-5] maxalloc=')" 5 "list: a line per state"
assert_eq "$(printf '%s\n' "$OUT" | grep -c .)" 6 "list: u and the five"
for n in 1 2 3 4 5; do run nfluactl destroy "many$n"; done

step "quotes, backslashes and dashes in arguments reach the kernel as given"
# (names and file names are quoted for eval by the shell itself; a request of strings only is
# written by busybox's echo, which must leave backslashes alone)
run nfluactl create "it's\\"
run nfluactl list
assert_contains "$OUT" "name=it's\\ " "a name with a quote and a backslash"
printf 'return "q", ...' >"$W/it's.lua"
run nfluactl execute "it's\\" "$W/it's.lua"
assert_eq "$OUT" "q" "a file name with a quote"
run nfluactl execute "it's\\" -e 'return "a\\c\\n", #"\\c", [[it'"'"'s]]'
assert_eq "$OUT" "$(printf 'a\\c\\n\t2\tit'"'"'s')" "backslashes and a quote in the code"
run nfluactl destroy "it's\\"
run nfluactl create -- -n
run nfluactl execute -e 'return "dash"' -- -n
assert_eq "$OUT" "dash" "a state named -n, after --"
run nfluactl destroy -- -n

step "send: on_receive's results; ENOSYS without it"
expect_rc 1 nfluactl send u hello
assert_eq "$ERR" "nfluactl: send u: the state has no global function 'on_receive'" \
    "send without on_receive: the one-field message"
exec 4<>/dev/nflua || fail "open"
printf 'send 1 1\nux' >&4
IFS= read -r hdr <&4 || fail "no reply to send"
assert_eq "$hdr" "38 45" "ENOSYS with exactly one field"
head -c 45 <&4 >/dev/null
exec 4<&-
run nfluactl execute u -e 'function on_receive(d) return #d, d end'
run nfluactl send u 'hello world'
assert_eq "$OUT" "11${TAB}hello world" "send DATA"
printf 'x\000y\n' >"$W/d"
nfluactl send u -f "$W/d" >"$W/o" || fail "send -f"
assert_eq "$(od -An -c "$W/o" | tr -s ' ')" " 4 \\t x \\0 y \\n \\n" "send -f with a NUL byte"
run sh -c 'printf abc | nfluactl send u -'
assert_eq "$OUT" "3${TAB}abc" "send from stdin"

step "receive: queued messages, --nonblock, --follow"
expect_rc 1 nfluactl receive u --nonblock
assert_contains "$ERR" "no message queued" "--nonblock with nothing queued"
run nfluactl execute u -e 'return nflua.send("one"), nflua.send("two two")'
assert_eq "$OUT" "true${TAB}true" "nflua.send returns true"
run nfluactl stats u
assert_contains "$OUT" "queued=2" "two messages queued"
run nfluactl receive u --nonblock
assert_eq "$OUT" "$(printf 'one\ntwo two')" "both messages, oldest first"
nfluactl receive u --follow >"$W/follow.out" 2>&1 &
pid=$!
sleep 1
run nfluactl execute u -e 'nflua.send("three")'
i=0
while [ "$(cat "$W/follow.out")" != three ]; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "receive --follow printed '$(cat "$W/follow.out")'"
    sleep 0.1
done
run nfluactl execute u -e 'nflua.send("four")'
sleep 1
assert_eq "$(cat "$W/follow.out")" "$(printf 'three\nfour')" "--follow keeps printing"
kill "$pid"
wait "$pid" 2>/dev/null
for f in /tmp/nfluactl.*; do
    [ ! -e "$f" ] || fail "temporary directory left: $f"
done
nfluactl receive u >"$W/recv.out" 2>&1 &
pid=$!
sleep 1
run nfluactl destroy u
wait "$pid" && fail "a receive waiting on a destroyed state succeeded"
assert_contains "$(cat "$W/recv.out")" "nfluactl: receive u: " "receive ends when the state goes"

step "list and stats as JSON"
run nfluactl create 'j"s\on' --budget 5000
run nfluactl list --json
case $OUT in
'[{"name":"j\"s\\on","maxalloc":1048576,"mem":'*',"budget":5000,'*'}]') ;;
*) fail "list --json: $OUT" ;;
esac
run nfluactl stats --json
case $OUT in
'{"'*'}') ;;
*) fail "stats --json is no object: $OUT" ;;
esac
assert_contains "$OUT" '"states":1,' "stats --json: states"
assert_contains "$OUT" '"all_states":1' "stats --json: all_states"
assert_contains "$OUT" '"version":"' "stats --json: version is a string"
run nfluactl destroy 'j"s\on'

step "exit 3 without the device, 5 for a reply that does not parse"
expect_rc 3 env NFLUA_DEV=/nonexistent nfluactl list
expect_rc 5 env NFLUA_DEV=/dev/null nfluactl list
assert_contains "$ERR" "protocol error" "no reply from /dev/null"
