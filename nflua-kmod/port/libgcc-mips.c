// SPDX-License-Identifier: MIT
/*
 * The run-time helpers GCC calls for 64-bit division on 32-bit mips, which the kernel does not
 * export (it wants do_div/div64_*). Lua's integers are 64-bit, so '//' and '%' on them compile
 * to calls of these. All four are built on the kernel's div64_u64_rem. Division by zero never
 * reaches them (Lua and port/libc.c raise an error first); they still return a defined result
 * (quotient 0, remainder the dividend) instead of trapping. A 64-bit mips kernel divides in
 * hardware and builds none of this.
 */
#include <linux/kernel.h>
#include <linux/math64.h>

#if BITS_PER_LONG == 32
long long __divdi3(long long n, long long d);
long long __moddi3(long long n, long long d);
unsigned long long __udivdi3(unsigned long long n, unsigned long long d);
unsigned long long __umoddi3(unsigned long long n, unsigned long long d);

static u64 nflua_udivmod(u64 n, u64 d, u64 *rem)
{
	if (unlikely(d == 0)) {
		*rem = n;
		return 0;
	}
	return div64_u64_rem(n, d, rem);
}

/* C's truncating division: the quotient rounds toward zero, the remainder has n's sign */
static s64 nflua_sdivmod(s64 n, s64 d, s64 *rem)
{
	u64 un = n < 0 ? 0 - (u64)n : (u64)n;
	u64 ud = d < 0 ? 0 - (u64)d : (u64)d;
	u64 q, r;

	q = nflua_udivmod(un, ud, &r);
	*rem = n < 0 ? (s64)(0 - r) : (s64)r;
	return (n < 0) != (d < 0) ? (s64)(0 - q) : (s64)q;
}

long long __divdi3(long long n, long long d)
{
	s64 r;

	return nflua_sdivmod(n, d, &r);
}

long long __moddi3(long long n, long long d)
{
	s64 r;

	nflua_sdivmod(n, d, &r);
	return r;
}

unsigned long long __udivdi3(unsigned long long n, unsigned long long d)
{
	u64 r;

	return nflua_udivmod(n, d, &r);
}

unsigned long long __umoddi3(unsigned long long n, unsigned long long d)
{
	u64 r;

	nflua_udivmod(n, d, &r);
	return r;
}
#endif
