/* SPDX-License-Identifier: MIT */
/*
 * setjmp/longjmp for Lua's error handling on mips (o32 and n64): saves the callee-saved s0-s7,
 * s8 (fp), gp (the kernel keeps the current thread_info there: the same task's, so restoring
 * it changes nothing), sp and ra. No FP registers: the kernel's C code is soft-float. Lua
 * longjmps only to a setjmp of the same kernel stack, to a frame that is still live.
 */
#include <asm/asm.h>
#include <asm/regdef.h>

/* int nflua_setjmp(nflua_jmp_buf env) */
LEAF(nflua_setjmp)
	REG_S	s0, (0 * SZREG)(a0)
	REG_S	s1, (1 * SZREG)(a0)
	REG_S	s2, (2 * SZREG)(a0)
	REG_S	s3, (3 * SZREG)(a0)
	REG_S	s4, (4 * SZREG)(a0)
	REG_S	s5, (5 * SZREG)(a0)
	REG_S	s6, (6 * SZREG)(a0)
	REG_S	s7, (7 * SZREG)(a0)
	REG_S	s8, (8 * SZREG)(a0)
	REG_S	gp, (9 * SZREG)(a0)
	REG_S	sp, (10 * SZREG)(a0)
	REG_S	ra, (11 * SZREG)(a0)
	move	v0, zero
	jr	ra
	END(nflua_setjmp)

/* void nflua_longjmp(nflua_jmp_buf env, int val) */
LEAF(nflua_longjmp)
	REG_L	s0, (0 * SZREG)(a0)
	REG_L	s1, (1 * SZREG)(a0)
	REG_L	s2, (2 * SZREG)(a0)
	REG_L	s3, (3 * SZREG)(a0)
	REG_L	s4, (4 * SZREG)(a0)
	REG_L	s5, (5 * SZREG)(a0)
	REG_L	s6, (6 * SZREG)(a0)
	REG_L	s7, (7 * SZREG)(a0)
	REG_L	s8, (8 * SZREG)(a0)
	REG_L	gp, (9 * SZREG)(a0)
	REG_L	sp, (10 * SZREG)(a0)
	REG_L	ra, (11 * SZREG)(a0)
	move	v0, a1
	bnez	v0, 1f
	li	v0, 1			/* setjmp must not appear to return 0 again */
1:	jr	ra
	END(nflua_longjmp)
