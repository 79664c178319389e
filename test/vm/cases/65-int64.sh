#!/bin/sh
# 64-bit integer division and modulo with operands beyond 32 bits, signs mixed, the minimum integer:
# on 32-bit arches these are the compiler's helpers in port/libgcc-ARCH.c (arm: __aeabi_ldivmod,
# mips: __divdi3/__moddi3); on 64-bit ones the CPU's instructions. Expected values are Python's
# floor division and modulo, which are Lua's.
# timeout: 60
. /test/lib.sh
run nfluactl create int64
run nfluactl execute int64 -e '
local t = {}
for _, p in ipairs({{7,2},{-7,2},{7,-2},{-7,-2},{1099511627776,3},{-1099511627777,7},{9223372036854775807,10},{(-9223372036854775807 - 1),10},{(-9223372036854775807 - 1),9223372036854775807},{123456789012345678,1000000007},{-123456789012345678,-98765432109},{1311768467463790320,4294967297},{5,9223372036854775807},{-5,4294967296},{4294967295,65536},{4611686018427387904,2147483649}}) do
	t[#t + 1] = (p[1] // p[2]) .. " " .. (p[1] % p[2])
end
return table.concat(t, ",")'
assert_eq "$OUT" "3 1,-4 1,-4 -1,3 -1,366503875925 1,-157073089683 4,922337203685477580 7,-922337203685477581 2,-2 9223372036854775806,123456788 148148162,1249999 -97641527787,305419896 2290649208,0 5,-1 4294967291,65535 65535,2147483647 1" "// and % on 64-bit integers"
run nfluactl execute int64 -e 'return 0x7fffffffffffffff + 1 == -9223372036854775807 - 1, string.format("%x", -1), 0xffffffffffffffff // 3'
assert_eq "$OUT" "true$(printf '\t')ffffffffffffffff$(printf '\t')-1" "wrap-around and unsigned views"
run nfluactl destroy int64
