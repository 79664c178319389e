#!/bin/sh
# The rule's function is found without a lookup per packet (state.c, nflua_fn_cache): whatever
# changes the global between packets must be what the next packet calls. Reassigned by execute,
# by send, and by the function itself during its call; removed (an error per packet, then back);
# the globals table rehashed by many new globals; two rules with two functions on one state,
# one rule deleted and another added with the same name; rules deleted and created with other
# names at the addresses of the deleted ones.
# timeout: 240
# shellcheck source=test/vm/guest/lib.sh
. /test/lib.sh

run nfluactl create fc --budget 10000000
run nfluactl execute fc -e 'seen = {}
function note(v) seen[#seen + 1] = v end
function f(pkt) note("a") return false end
function g(pkt) note("g") return false end
function on_receive(s) load(s)() end'
ipt() { run iptables-legacy "$@"; }
ipt -A OUTPUT -o lo -p icmp --icmp-type echo-request -m lua --state fc --function f -j ACCEPT
one() { run ping -c 1 -W 1 127.0.0.1; }
seen() { run nfluactl execute fc -e 'local s = table.concat(seen, "") seen = {} return s'; printf '%s' "$OUT"; }

step "the first packets, then reassignment by execute"
one; one
assert_eq "$(seen)" aa "two packets, the first function"
run nfluactl execute fc -e 'function f(pkt) note("b") return false end'
one
assert_eq "$(seen)" b "reassigned by execute"

step "reassignment by send and by the function itself"
run nfluactl send fc 'function f(pkt) note("c") return false end'
one
assert_eq "$(seen)" c "reassigned by send"
run nfluactl execute fc -e 'function f(pkt) note("d") f = function() note("e") return false end return false end'
one; one; one
assert_eq "$(seen)" dee "the function replaced itself during its call"

step "removed, then defined again"
e0=$(nfluactl stats fc | sed -n 's/^errors=//p')
run nfluactl execute fc -e 'f = nil'
one
e1=$(nfluactl stats fc | sed -n 's/^errors=//p')
assert_eq "$((e1 - e0))" 1 "a packet with no function is an error"
run nfluactl execute fc -e 'f = 42'
one
e2=$(nfluactl stats fc | sed -n 's/^errors=//p')
assert_eq "$((e2 - e1))" 1 "a packet with a number for a function is an error"
run nfluactl execute fc -e 'function f(pkt) note("h") return false end'
one
assert_eq "$(seen)" h "defined again"

step "the globals table rehashed, and rehashed again while removed"
run nfluactl execute fc -e 'for i = 1, 2000 do _G["x" .. i] = i end function f(pkt) note("i") return false end'
one
run nfluactl execute fc -e 'for i = 1, 2000 do _G["x" .. i] = nil end collectgarbage() for i = 1, 3000 do _G["y" .. i] = i end'
one
assert_eq "$(seen)" ii "the same function after two rehashes"
run nfluactl execute fc -e 'f = nil for i = 1, 3000 do _G["y" .. i] = nil end collectgarbage() for i = 1, 100 do _G["z" .. i] = i end function f(pkt) note("j") return false end'
one
assert_eq "$(seen)" j "removed, rehashed, defined again"

step "two rules, two functions; a rule replaced by one with the other function"
ipt -A OUTPUT -o lo -p icmp --icmp-type echo-request -m lua --state fc --function g -j ACCEPT
one
assert_eq "$(seen)" jg "both rules"
ipt -D OUTPUT 1
ipt -A OUTPUT -o lo -p icmp --icmp-type echo-request -m lua --state fc --function f -j ACCEPT
one
assert_eq "$(seen)" gj "g first now"
run nfluactl execute fc -e 'function g(pkt) note("k") return false end'
one
assert_eq "$(seen)" kj "g reassigned"
ipt -F OUTPUT

# A rule's function name is found by its address first: a rule deleted and another created
# with another name can get the freed rule's memory (nft_compat frees and allocates the rule's
# data one rule at a time, of one size: it comes back), and must call its own function. Seen
# in p35: a match rule for 'broken' created after a target rule for 'block_t' was flushed
# called block_t.
step "rules deleted and created with other names: each packet calls the function its rule names"
run nfluactl execute fc -e 'function f(pkt) note("f") return false end function g(pkt) note("g") return false end
function h(pkt) note("h") return "continue" end'
for tool in iptables-nft iptables-legacy; do
    want='' i=0
    while [ $i -lt 12 ]; do
        case $((i % 3)) in
        0) fn=f; rule="-m lua --state fc --function f -j ACCEPT" ;;
        1) fn=h; rule="-j LUA --state fc --function h" ;;
        2) fn=g; rule="-m lua --state fc --function g -j ACCEPT" ;;
        esac
        # shellcheck disable=SC2086 # the rule's words
        run $tool -A OUTPUT -o lo -p icmp --icmp-type echo-request $rule
        one
        want="$want$fn"
        run $tool -F OUTPUT
        i=$((i + 1))
    done
    assert_eq "$(seen)" "$want" "$tool: each rule called its own function"
done
run nfluactl destroy fc
