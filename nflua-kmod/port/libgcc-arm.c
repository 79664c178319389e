// SPDX-License-Identifier: MIT
/*
 * The run-time helpers GCC calls for 64-bit division on 32-bit arm (EABI), which the kernel
 * does not export (it wants do_div/div64_*; Lunatik's module fails to load on ipq806x for
 * lack of exactly these). Lua's integers are 64-bit, so '//' and '%' on them compile to calls
 * of __aeabi_ldivmod and __aeabi_uldivmod. Both are built on the kernel's div64_u64_rem.
 * Division by zero never reaches them (Lua and port/libc.c raise an error first); they still
 * return a defined result (quotient 0, remainder the dividend) instead of trapping.
 *
 * The EABI returns the quotient in r0:r1 and the remainder in r2:r3, which no C function
 * type can express: a small assembly entry calls the C code with a pointer to the remainder
 * on its stack and loads it into r2:r3.
 */
#include <linux/kernel.h>
#include <linux/math64.h>

#ifdef __ARMEB__
#error "nflua: libgcc-arm.c loads the remainder as little-endian words"
#endif

u64 nflua_uldivmod(u64 n, u64 d, u64 *rem);
s64 nflua_ldivmod(s64 n, s64 d, s64 *rem);
void __aeabi_uldivmod(void);
void __aeabi_ldivmod(void);

u64 nflua_uldivmod(u64 n, u64 d, u64 *rem)
{
	if (unlikely(d == 0)) {
		*rem = n;
		return 0;
	}
	return div64_u64_rem(n, d, rem);
}

/* C's truncating division: the quotient rounds toward zero, the remainder has n's sign */
s64 nflua_ldivmod(s64 n, s64 d, s64 *rem)
{
	u64 un = n < 0 ? 0 - (u64)n : (u64)n;
	u64 ud = d < 0 ? 0 - (u64)d : (u64)d;
	u64 q, r;

	q = nflua_uldivmod(un, ud, &r);
	*rem = n < 0 ? (s64)(0 - r) : (s64)r;
	return (n < 0) != (d < 0) ? (s64)(0 - q) : (s64)q;
}

/* n in r0:r1, d in r2:r3 -> quotient in r0:r1, remainder in r2:r3 */
#define NFLUA_AEABI_DIVMOD(name, impl)						\
void __naked name(void)								\
{										\
	asm volatile("push	{r4, lr}\n"					\
		     "sub	sp, sp, #16\n"	/* [sp]: 5th argument, [sp+8]: rem */	\
		     "add	r4, sp, #8\n"					\
		     "str	r4, [sp]\n"					\
		     "bl	" #impl "\n"					\
		     "ldr	r2, [sp, #8]\n"					\
		     "ldr	r3, [sp, #12]\n"				\
		     "add	sp, sp, #16\n"					\
		     "pop	{r4, pc}\n");					\
}

NFLUA_AEABI_DIVMOD(__aeabi_uldivmod, nflua_uldivmod)
NFLUA_AEABI_DIVMOD(__aeabi_ldivmod, nflua_ldivmod)
