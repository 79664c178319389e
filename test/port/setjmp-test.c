// SPDX-License-Identifier: MIT
/*
 * The module's setjmp/longjmp (nflua-kmod/port/setjmp-ARCH.S), assembled unchanged into a static
 * user-space program for that arch and run under qemu-user by test/port/setjmp-test.sh:
 *   - setjmp returns 0, then the value longjmp passes (1 for 0);
 *   - after a longjmp out of nested calls that clobbered every callee-saved register, the setjmp
 *     caller's locals held in those registers are intact;
 *   - arm64: x18 (the shadow call stack pointer on kernels with CONFIG_SHADOW_CALL_STACK) is back
 *     to its value at setjmp (built with -ffixed-x18, as such kernels are).
 * Prints one "ok"/"FAIL" line per check and exits 1 on a failure.
 */
#include <stdio.h>
#include <string.h>
#include "nflua_libc_jmpbuf.h"

static int failed;
static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		failed = 1;
}

static nflua_jmp_buf env;

#if defined(__aarch64__)
static inline unsigned long get_x18(void)
{
	unsigned long v;

	asm volatile("mov %0, x18" : "=r"(v));
	return v;
}
static inline void set_x18(unsigned long v)
{
	asm volatile("mov x18, %0" : : "r"(v) : "memory");
}
#endif

/* clobber the callee-saved registers, then throw from a deeper frame */
static __attribute__((noinline)) void thrower(int depth, int val)
{
	volatile char pad[64];

	memset((char *)pad, depth, sizeof(pad));
	if (depth > 0) {
		thrower(depth - 1, val);
		return;
	}
#if defined(__aarch64__)
	set_x18(0xdeadbeefUL);
	asm volatile("" : : : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28");
#elif defined(__x86_64__)
	asm volatile("" : : : "rbx", "r12", "r13", "r14", "r15");
#endif
	nflua_longjmp(env, val);
}

static volatile unsigned long seed = 0x1111;

static __attribute__((noinline)) int run(int val)
{
	/* values the compiler keeps in callee-saved registers across the calls (not changed
	 * between setjmp and longjmp, so C guarantees them afterwards) */
	unsigned long a = seed * 3, b = seed * 5, c = seed * 7;
	volatile int r;

#if defined(__aarch64__)
	set_x18(0x5ca1ab1eUL);
#endif
	r = nflua_setjmp(env);
	if (r == 0) {
		thrower(5, val);
		return -1;
	}
#if defined(__aarch64__)
	check(get_x18() == 0x5ca1ab1eUL, "arm64: x18 after longjmp is its value at setjmp");
#endif
	check(a == 0x1111 * 3 && b == 0x1111 * 5 && c == 0x1111 * 7,
	      "locals in callee-saved registers kept");
	return r;
}

int main(void)
{
	check(run(7) == 7, "setjmp returns longjmp's value (7)");
	check(run(0) == 1, "longjmp(env, 0) makes setjmp return 1");
	return failed;
}
