#!/bin/sh
# The kernel's Lua: integer-only numbers, traps handled before the CPU sees them, float formats
# refused, text chunks only, no io/os/require/dofile/loadfile.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/60.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

# ok CODE EXPECTED: CODE runs and prints EXPECTED
ok() {
    run nfluactl execute web -e "$1"
    assert_eq "$OUT" "$2" "$1"
}

# err CODE NEEDLE: CODE fails with exit 1 and a message containing NEEDLE (left in $ERR);
# the state works after
err() {
    expect_rc 1 nfluactl execute web -e "$1"
    assert_contains "$ERR" "nfluactl: execute web: " "error prefix for: $1"
    assert_contains "$ERR" "$2" "message for: $1"
    _err=$ERR
    ok 'return 6 * 7' 42
    ERR=$_err
}

TAB=$(printf '\t')
run nfluactl create web

step "string.format refuses float conversions"
for c in f g e a F G E A; do
    err "return string.format('%$c', 1)" "format"
    err "return string.format('%5.2$c', 1)" "format"
done
ok "return string.format('%d|%5d|%-3s|%x|%s', 42, 7, 'a', 255, 'z')" "42|    7|a  |ff|z"
ok "return string.format('%i|%c|%o|%X|%%', -3, 65, 8, 255)" "-3|A|10|FF|%"
ok "return string.format('%q', 'a\"b')" '"a\"b"'

step "string.pack float formats are compiled out"
err "return string.pack('d', 1)" "format"
err "return string.pack('f', 1)" "format"
ok "return #string.pack('>i4', 7)" 4

step "division and modulo by zero are Lua errors"
# Lua's own messages are "attempt to perform 'n//0'" and "'n%%0'"; this port may say
# "attempt to divide by zero" instead: either is a clear Lua error
for code in 'return 1//0' 'return 1%0' 'local a, b = 1, 0 return a // b' 'local a, b = 1, 0 return a % b'; do
    err "$code" "web:1: attempt to "
    case $ERR in
    *"attempt to perform 'n//0'" | *"attempt to perform 'n%0'" | *"divide by zero"*) ;;
    *) fail "unclear division error for $code: $ERR" ;;
    esac
done
err 'return 1/0' "web:1:"
err 'local a, b = 1, 0 return a / b' "web:1:"

step "math.mininteger // -1 and % -1 do not trap"
ok 'local m, d = -9223372036854775807 - 1, -1 return m // d, m % d' "-9223372036854775808${TAB}0"
ok 'return (-9223372036854775807 - 1) // -1, (-9223372036854775807 - 1) % -1' "-9223372036854775808${TAB}0"
rc=0
nfluactl execute web -e 'local m, d = -9223372036854775807 - 1, -1 return m / d' >/dev/null 2>&1 || rc=$?
[ "$rc" -le 1 ] || fail "mininteger / -1: exit $rc"
ok 'return 6 * 7' 42

step "/ is integer division; floats are syntax errors"
ok 'return 7/2' 3
ok 'local a, b = 7, 2 return a / b, a // b, a % b' "3${TAB}3${TAB}1"
ok 'return 9007199254740993 + 0' 9007199254740993
err 'return 1.5' "malformed number"
err 'return 1e9' "malformed number"
ok 'return tonumber("1.5"), tonumber("10"), tonumber("0x10")' "nil${TAB}10${TAB}16"

step "shifts by 64 or more are defined"
ok 'local a, b = 1, 64 return a << b, a >> b, a << 63, a << -1, -1 >> 1' \
    "0${TAB}0${TAB}-9223372036854775808${TAB}0${TAB}9223372036854775807"

step "no bytecode: string.dump is nil, binary chunks are refused"
ok 'return type(string.dump)' nil
run nfluactl execute web -e 'local f, e = load("\27Lua\84\0\25\147\13\10\26\10") return f == nil, e'
assert_contains "$OUT" "true${TAB}" "load of a binary chunk returns nil"
assert_contains "$OUT" "binary" "the error mentions binary"
ok 'local f, e = load("return 1", "x", "b") return f == nil' true
ok 'local f, e = load("\27Lua", "x", "bt") return f == nil' true
ok 'return load("return 5", "x", "t")()' 5
printf '\033Lua\124\000\031\223\015\012\032\012' >"$W/bin.luac"
expect_rc 1 nfluactl execute web "$W/bin.luac"
ok 'return 6 * 7' 42

step "no io, os, require, dofile, loadfile, debug, package"
ok 'return type(io), type(os), type(require), type(dofile), type(loadfile)' \
    "nil${TAB}nil${TAB}nil${TAB}nil${TAB}nil"
ok 'return type(debug), type(package)' "nil${TAB}nil"
ok 'return type(string), type(table), type(coroutine), type(utf8), type(pcall)' \
    "table${TAB}table${TAB}table${TAB}table${TAB}function"

run nfluactl destroy web
