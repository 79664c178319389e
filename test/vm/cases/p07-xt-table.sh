#!/bin/sh
# Every line of libxt_lua/libxt_lua.t (libxt_lua/test.sh: 360 checks) on iptables and
# ip6tables, legacy and nft, against the real module: what parses, what is refused with which
# message, what -S and save/restore print back. Apart from p05-xtables, which meets the
# kernel on every test kernel every run (COMPAT_CASES), because its iptables processes take
# two minutes under TCG.
# timeout: 600
. /test/lib.sh
xt_table_states create

step "libxt_lua/test.sh"
/libxt_lua/test.sh > /tmp/xt.out 2>&1
rc=$?
cat /tmp/xt.out
echo "(exit $rc)"
[ $rc -eq 0 ] || fail "libxt_lua/test.sh"
xt_table_states destroy
