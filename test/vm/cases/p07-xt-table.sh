#!/bin/sh
# Every line of libxt_lua/libxt_lua.t (libxt_lua/test.sh: 360 checks) on iptables and
# ip6tables, legacy and nft, against the real module: what parses, what is refused with which
# message, what -S and save/restore print back. Apart from p05-xtables, which meets the
# kernel on every test kernel every run (COMPAT_CASES), because its iptables processes take
# two minutes under TCG.
# timeout: 600
. /test/lib.sh
F='function check_ua(p) return true end
function verdict(p) return "continue" end
function _f0(p) return false end
function f012345678901234567890123456789012345678901234567890123456789_y(p) return false end
function yes(p) return true end
function no(p) return false end'
for s in web my.state 'q"s\t' "it's" s012345678901234567890123456789012345678901234567890123456789xy; do
    run nfluactl create "$s"
    run nfluactl execute "$s" -e "$F"
done

step "libxt_lua/test.sh"
/libxt_lua/test.sh > /tmp/xt.out 2>&1
rc=$?
cat /tmp/xt.out
echo "(exit $rc)"
[ $rc -eq 0 ] || fail "libxt_lua/test.sh"
for s in web my.state 'q"s\t' "it's" s012345678901234567890123456789012345678901234567890123456789xy; do
    run nfluactl destroy "$s"
done
