#!/bin/sh
# Syntax and runtime errors come back with chunk name and line; the state keeps working.
# timeout: 120
. /test/lib.sh
W=$(mktemp -d /tmp/20.XXXXXX) || fail "mktemp"
trap 'rm -rf "$W"' EXIT

# works STATE: the state still runs code
works() {
    run nfluactl execute "$1" -e 'return 6 * 7'
    assert_eq "$OUT" 42 "state $1 works after the error"
}

NL='
'
run nfluactl create web

step "syntax error: chunk name and line, exit 1"
expect_rc 1 nfluactl execute web -e "local a = 1${NL}local b = = 2"
assert_contains "$ERR" "nfluactl: execute web: web:2: " "syntax error names chunk and line"
assert_contains "$ERR" "near '='" "syntax error says where"
assert_eq "$OUT" "" "no output on error"
works web

step "runtime error: chunk name and line, exit 1"
expect_rc 1 nfluactl execute web -e "local a = 1${NL}${NL}foo()"
assert_eq "$ERR" "nfluactl: execute web: web:3: attempt to call a nil value (global 'foo')" "runtime error message"
works web
expect_rc 1 nfluactl execute web -e "error('boom')"
assert_eq "$ERR" "nfluactl: execute web: web:1: boom" "error() message"
works web
expect_rc 1 nfluactl execute web -e "local t = nil${NL}return t.x"
assert_contains "$ERR" "web:2: attempt to index a nil value (local 't')" "index error"
works web

step "errors in functions defined by an earlier chunk name their chunk"
printf 'function check(x)\n  return x + {}\nend\n' >"$W/lib.lua"
run nfluactl execute web "$W/lib.lua"
expect_rc 1 nfluactl execute web -e 'return check(1)'
assert_contains "$ERR" "lib.lua:2: attempt to perform arithmetic on a table value" "error in lib.lua's function"
works web

step "chunk names: FILE's base name, --chunkname"
mkdir -p "$W/d"
printf 'return 1\nreturn +\n' >"$W/d/policy.lua"
expect_rc 1 nfluactl execute web "$W/d/policy.lua"
assert_contains "$ERR" "nfluactl: execute web: policy.lua:2: " "FILE's base name"
expect_rc 1 nfluactl execute web -e 'nope()' --chunkname edge
assert_contains "$ERR" "edge:1: attempt to call a nil value (global 'nope')" "--chunkname"
printf 'x = \n\n+' | nfluactl execute web - 2>"$W/e" && fail "stdin chunk with a syntax error succeeded"
assert_contains "$(cat "$W/e")" "web:3: " "stdin chunk is named after the state"
works web

step "error counters"
run nfluactl stats web
errors=$(printf '%s\n' "$OUT" | sed -n 's/^errors=//p')
[ "${errors:-0}" -ge 4 ] || fail "errors=$errors after 4 runtime errors"
run nfluactl destroy web
