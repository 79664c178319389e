/* SPDX-License-Identifier: MIT */
/*
 * setjmp/longjmp for Lua's error handling on arm64 (AAPCS64): saves the callee-saved registers
 * x19-x28, the frame pointer x29, the link register x30, sp and x18. d8-d15 are not saved: kernel
 * C is built with -mgeneral-regs-only and never holds values in FP/SIMD registers. Lua longjmps
 * only to a setjmp of the same kernel stack, to a frame that is still live.
 *
 * x18: with CONFIG_SHADOW_CALL_STACK it is the task's shadow call stack pointer; every function
 * that saves x30 pushes it there and pops it before returning. A longjmp skips the pops of the
 * frames it unwinds, so x18 must go back to its value at setjmp, or the setjmp caller's epilogue
 * would load a stale return address (the kernel builds with -ffixed-x18 then). Without SCS x18 is
 * an ordinary temporary that no caller expects to survive a call, so restoring it is harmless.
 *
 * Pointer authentication (pac-ret): x30 here is the plain return address into our caller (a
 * caller signs only the copy of its own return address that it keeps in its frame), so it is
 * saved and reused as is; the frames we return into authenticate their own saved LR as usual.
 * BTI: SYM_FUNC_START emits the landing pad; longjmp returns with `ret`, which BTI does not check.
 */
#include <linux/linkage.h>
#ifndef CONFIG_ARM64
#error "nflua: setjmp-arm64.S is for arm64 only"
#endif

/* int nflua_setjmp(nflua_jmp_buf env) */
SYM_FUNC_START(nflua_setjmp)
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x1, sp
	stp	x1, x18, [x0, #96]
	mov	w0, #0
	ret
SYM_FUNC_END(nflua_setjmp)

/* void nflua_longjmp(nflua_jmp_buf env, int val) */
SYM_FUNC_START(nflua_longjmp)
	ldp	x19, x20, [x0, #0]
	ldp	x21, x22, [x0, #16]
	ldp	x23, x24, [x0, #32]
	ldp	x25, x26, [x0, #48]
	ldp	x27, x28, [x0, #64]
	ldp	x29, x30, [x0, #80]
	ldp	x2, x18, [x0, #96]
	mov	sp, x2
	cmp	w1, #0
	csinc	w0, w1, wzr, ne		/* setjmp must not appear to return 0 again */
	ret
SYM_FUNC_END(nflua_longjmp)
