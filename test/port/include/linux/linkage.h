/* SPDX-License-Identifier: MIT */
/* The two macros of the kernel's <linux/linkage.h> that port/setjmp-*.S use, for building the
 * module's setjmp/longjmp into a user-space test program (test/port/setjmp-test.sh). */
#ifndef NFLUA_TEST_LINKAGE_H
#define NFLUA_TEST_LINKAGE_H
#define SYM_FUNC_START(name)	.globl name; .type name, %function; .balign 4; name:
#define SYM_FUNC_END(name)	.size name, . - name
#endif
