// SPDX-License-Identifier: MIT
/*
 * The C library functions Lua needs that the kernel lacks, and integer versions of Lua's float
 * arithmetic (nflua_luaconf.h). Nothing here may trap the CPU: division by zero and
 * LLONG_MIN / -1 are handled before the instruction.
 */
#define LUA_CORE

#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/bug.h>

#include "lua.h"
#include "ldebug.h"
#include "ldo.h"

long long nflua_numidiv(struct lua_State *L, long long a, long long b)
{
	long long q;

	if (b == 0)
		luaG_runerror(L, "attempt to perform 'n/0'");
	if (b == -1)
		return (long long)(0ULL - (unsigned long long)a);	/* wraps like '//' */
	q = a / b;
	if ((a % b != 0) && ((a ^ b) < 0))
		q--;	/* floor, like Lua's '//' */
	return q;
}

long long nflua_nummod(struct lua_State *L, long long a, long long b)
{
	long long m;

	if (b == 0)
		luaG_runerror(L, "attempt to perform 'n%%0'");
	if (b == -1)
		return 0;
	m = a % b;
	if (m != 0 && (m ^ b) < 0)
		m += b;
	return m;
}

/* Integer power by squaring; negative exponents are an error (no fractions here). */
long long nflua_numpow(struct lua_State *L, long long a, long long b)
{
	unsigned long long r = 1, x = (unsigned long long)a;

	if (b < 0)
		luaG_runerror(L, "attempt to raise to a negative power (integers only)");
	for (; b; b >>= 1) {
		if (b & 1)
			r *= x;
		x *= x;
	}
	return (long long)r;
}

/* Strings that are not integers are not numbers: there are no floats. */
long long nflua_str2number(const char *s, char **endp)
{
	*endp = (char *)s;	/* nothing recognized */
	return 0;
}

void nflua_writestring(const char *s, size_t len)
{
	pr_info_ratelimited("%.*s", (int)min_t(size_t, len, 200), s);
}

/* Raises the error object on top of the stack without calling the message handler: the
 * budget error is raised from the count hook, where Lua runs with hooks disabled, so a Lua
 * message handler (xpcall's) would run there with no budget at all. */
void nflua_throw(struct lua_State *L)
{
	luaD_throw(L, LUA_ERRRUN);
}

#if defined(CONFIG_KASAN_GENERIC) && defined(CONFIG_KASAN_STACK)
/* mm/kasan: unpoisons [stack_top, stack_bottom), exported for the compiler's alloca code
 * (declared as GCC's builtin of that name has it) */
void __asan_allocas_unpoison(void *stack_top, long stack_bottom);
#endif

/*
 * A Lua error jumps over the frames between here and the protected call, which never return
 * and so never clear their KASAN redzones: a later call that reuses that stack would be
 * reported as out of bounds (found on the debug kernel: stack-out-of-bounds in
 * stack_trace_consume_entry after an error in lua_load). Clear them first, as the kernel does
 * when it unwinds a stack itself. Not instrumented, so this frame has no redzones of its own.
 */
__no_sanitize_address noinline void nflua_unwind(nflua_jmp_buf env)
{
#if defined(CONFIG_KASAN_GENERIC) && defined(CONFIG_KASAN_STACK)
	__asan_allocas_unpoison(__builtin_frame_address(0), (long)env[NFLUA_JMP_SP]);
#endif
	nflua_longjmp(env, 1);
}

void nflua_abort(void)
{
	/* Lua calls abort() only after an unprotected error, which nflua never causes. */
	BUG();
}
