#!/bin/sh
# Deep recursion in Lua and through C (pcall, load, gsub, coroutines, sort, metamethods,
# tostring, the parser) ends in a Lua error, never a kernel crash; the state keeps working.
# timeout: 180
. /test/lib.sh

# overflow STATE CODE: CODE must end in a Lua error about the stack or nesting depth
overflow() {
    expect_rc 1 nfluactl execute "$1" -e "$2"
    case $ERR in
    "nfluactl: execute $1: "*) ;;
    *) fail "unexpected error format: $ERR" ;;
    esac
    case $ERR in
    *"stack overflow"* | *"too many"* | *"syntax levels"*) ;;
    *) fail "no stack overflow error for: $2 (got: $ERR)" ;;
    esac
    run nfluactl execute "$1" -e 'return 6 * 7'
    assert_eq "$OUT" 42 "state works after: $2"
}

# Lua-to-Lua recursion needs LUAI_MAXSTACK slots (16 MiB and their CallInfos) before "stack
# overflow": give it the largest maxalloc and budget so neither ends it first.
run nfluactl create deep --maxalloc 256M --budget 10000000
run nfluactl create web

step "Lua recursion"
overflow deep 'local function f(n) return 1 + f(n + 1) end return f(1)'
run nfluactl stats deep
peak=$(printf '%s\n' "$OUT" | sed -n 's/^peak=//p')
[ "$peak" -le 268435456 ] || fail "peak=$peak over maxalloc"

step "recursion through C functions"
overflow web 'local function f() return pcall(f) end local t = table.pack(f()) error(t[t.n], 0)'
overflow web 'local function f() local ok, e = pcall(f) error(e, 0) end f()'
overflow web 'local function f() return select(2, xpcall(f, function(e) return e end)) end error(f(), 0)'
overflow web 'local function rd() local f, e = load(rd) if not f then error(e, 0) end return nil end local f, e = load(rd) error(e or "loaded", 0)'
overflow web 'src = "local f, e = load(src) if not f then error(e, 0) end return pcall(f)" local f = load(src) local t = table.pack(f()) error(tostring(t[t.n]), 0)'
overflow web 'local function f(s) return (string.gsub(s, ".", f)) end return f("x")'
overflow web 'local t = setmetatable({}, {__index = function(t, k) return (string.gsub(k, ".", t)) end}) return t.x'
overflow web 'local function f() return coroutine.wrap(f)() end return f()'
overflow web 'local function f() local co = coroutine.create(f) local ok, e = coroutine.resume(co) error(e, 0) end f()'
overflow web 'local function cmp(a, b) table.sort({3, 2, 1}, cmp) return a < b end table.sort({3, 2, 1}, cmp)'
overflow web 'local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x'
overflow web 'local t = setmetatable({}, {__newindex = function(t, k, v) t[k] = v end}) t.x = 1'
overflow web 'local mt = {} mt.__add = function(a, b) return a + b end local x = setmetatable({}, mt) return x + 1'
overflow web 'local mt = {} mt.__eq = function(a, b) return a == b end local x, y = setmetatable({}, mt), setmetatable({}, mt) return x == y'
overflow web 'local mt = {} mt.__tostring = function(o) return tostring(o) end local x = setmetatable({}, mt) return tostring(x)'
overflow web 'local mt = {} mt.__concat = function(a, b) return a .. b end local x = setmetatable({}, mt) return x .. "y"'
overflow web 'local mt = {} mt.__len = function(a) return #a end return #setmetatable({}, mt)'
overflow web 'local mt = {} mt.__lt = function(a, b) return a < b end local x = setmetatable({}, mt) return x < x'
overflow web 'local mt = {} mt.__index = function(t, k) return tostring(t) end mt.__tostring = function(t) return t.name end local x = setmetatable({}, mt) return tostring(x)'

step "recursive to-be-closed variables end in an error (any message)"
expect_rc 1 nfluactl execute web -e 'local mt = {} mt.__close = function(o) local x <close> = setmetatable({}, mt) end local x <close> = setmetatable({}, mt)'
run nfluactl execute web -e 'return 6 * 7'
assert_eq "$OUT" 42 "state works after recursive __close"

step "a result whose __tostring recurses (the module converts results with tostring)"
overflow web 'return setmetatable({}, {__tostring = function(o) return tostring(o) end})'
expect_rc 1 nfluactl execute web -e 'return setmetatable({}, {__tostring = function(o) while true do end end})'
assert_contains "$ERR" "budget" "a __tostring loop in the result is stopped by the budget"
expect_rc 1 nfluactl execute web -e 'return setmetatable({}, {__tostring = function(o) return {} end})'
assert_contains "$ERR" "__tostring" "a __tostring that returns no string"

step "deeply nested source code"
open=$(printf '%1000s' '' | tr ' ' '(')
close=$(printf '%1000s' '' | tr ' ' ')')
overflow web "return ${open}1${close}"
open=$(printf '%300s' '' | tr ' ' '{')
close=$(printf '%300s' '' | tr ' ' '}')
overflow web "return ${open}${close}"
code=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "if true then "; for (i = 0; i < 300; i++) printf "end " }')
overflow web "$code"
code=$(awk 'BEGIN { for (i = 0; i < 300; i++) printf "function() return "; printf "1"; for (i = 0; i < 300; i++) printf " end" }')
overflow web "return $code"
code=$(awk 'BEGIN { printf "return "; for (i = 0; i < 300; i++) printf "- "; printf "1" }')
overflow web "$code"

for s in deep web; do run nfluactl destroy "$s"; done
