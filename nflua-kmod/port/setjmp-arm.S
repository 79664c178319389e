/* SPDX-License-Identifier: MIT */
/*
 * setjmp/longjmp for Lua's error handling on 32-bit arm (AAPCS, ARM or Thumb-2 kernels): saves
 * the callee-saved r4-r11, sp and lr. The VFP registers d8-d15 are not saved: the kernel is
 * built with -msoft-float and its C code never holds values in them. Lua longjmps only to a
 * setjmp of the same kernel stack, to a frame that is still live.
 */
#include <linux/linkage.h>
#include <asm/assembler.h>
#ifndef CONFIG_ARM
#error "nflua: setjmp-arm.S is for 32-bit arm only"
#endif

/* int nflua_setjmp(nflua_jmp_buf env) */
SYM_FUNC_START(nflua_setjmp)
	stmia	r0!, {r4-r11}
	mov	r2, sp			/* Thumb-2 cannot store sp from a register list */
	str	r2, [r0]
	str	lr, [r0, #4]
	mov	r0, #0
	ret	lr
SYM_FUNC_END(nflua_setjmp)

/* void nflua_longjmp(nflua_jmp_buf env, int val) */
SYM_FUNC_START(nflua_longjmp)
	ldmia	r0!, {r4-r11}
	ldr	r2, [r0]
	mov	sp, r2
	ldr	lr, [r0, #4]
	movs	r0, r1
	bne	1f
	mov	r0, #1			/* setjmp must not appear to return 0 again */
1:	ret	lr
SYM_FUNC_END(nflua_longjmp)
