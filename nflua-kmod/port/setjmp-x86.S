/* SPDX-License-Identifier: MIT */
/*
 * setjmp/longjmp for Lua's error handling on x86_64: saves the callee-saved registers, the
 * stack pointer and the return address. Lua longjmps only to a setjmp of the same kernel stack.
 */
#include <linux/linkage.h>
#ifndef CONFIG_X86_64
#error "nflua: setjmp-x86.S is for x86_64 only"
#endif
#include <asm/nospec-branch.h>

/* int nflua_setjmp(nflua_jmp_buf env) */
SYM_FUNC_START(nflua_setjmp)
	movq	%rbx, 0(%rdi)
	movq	%rbp, 8(%rdi)
	movq	%r12, 16(%rdi)
	movq	%r13, 24(%rdi)
	movq	%r14, 32(%rdi)
	movq	%r15, 40(%rdi)
	leaq	8(%rsp), %rdx		/* the caller's stack pointer after we return */
	movq	%rdx, 48(%rdi)
	movq	(%rsp), %rdx		/* the return address */
	movq	%rdx, 56(%rdi)
	xorl	%eax, %eax
	RET
SYM_FUNC_END(nflua_setjmp)

/* void nflua_longjmp(nflua_jmp_buf env, int val) */
SYM_FUNC_START(nflua_longjmp)
	movl	%esi, %eax
	testl	%eax, %eax
	jnz	1f
	incl	%eax			/* setjmp must not appear to return 0 again */
1:	movq	0(%rdi), %rbx
	movq	8(%rdi), %rbp
	movq	16(%rdi), %r12
	movq	24(%rdi), %r13
	movq	32(%rdi), %r14
	movq	40(%rdi), %r15
	movq	48(%rdi), %rsp
	movq	56(%rdi), %rdx
	ANNOTATE_RETPOLINE_SAFE
	jmp	*%rdx
SYM_FUNC_END(nflua_longjmp)
