/* SPDX-License-Identifier: MIT */
/*
 * The little of the C library that Lua's core and its string, table, coroutine and utf8
 * libraries use, mapped onto the kernel. Lua includes <string.h>, <stdlib.h>, ...; in our build
 * those names resolve to the one-line headers beside this file, which all include this one.
 */
#ifndef NFLUA_LIBC_H
#define NFLUA_LIBC_H

#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/stddef.h>
#include <linux/limits.h>
#include <linux/string.h>
#include <linux/ctype.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/slab.h>

/* Lua tests these in #if, where the kernel's casts cannot be evaluated. Same values. */
#undef INT_MAX
#undef INT_MIN
#undef UINT_MAX
#define INT_MAX		2147483647
#define INT_MIN		(-INT_MAX - 1)
#define UINT_MAX	4294967295U
#undef LLONG_MAX
#undef LLONG_MIN
#define LLONG_MAX	9223372036854775807LL
#define LLONG_MIN	(-LLONG_MAX - 1LL)

#ifndef CHAR_BIT
#define CHAR_BIT	8
#endif
#ifndef UCHAR_MAX
#define UCHAR_MAX	255
#endif
#ifndef SCHAR_MAX
#define SCHAR_MAX	127
#endif
#ifndef SHRT_MAX
#define SHRT_MAX	0x7fff
#endif

/* Lua's sources use the names 'current' (llex.c) and 'panic' (lauxlib.c, lstate.h), which the
 * kernel defines; Lua's own files do not need the kernel's meaning of either. */
#if defined(LUA_CORE) || defined(LUA_LIB)
#undef current
#define panic	nflua_lua_panic_field
#endif

/* <setjmp.h>: per-arch assembly in port/setjmp-*.S */
/* NFLUA_JMP_SP: the slot holding the stack pointer to return to */
#if defined(__x86_64__)
typedef unsigned long nflua_jmp_buf[8];		/* rbx rbp r12 r13 r14 r15 rsp rip */
#define NFLUA_JMP_SP	6
#elif defined(__aarch64__)
typedef unsigned long nflua_jmp_buf[14];	/* x19-x30, sp, x18 (kernel C uses no d8-d15) */
#define NFLUA_JMP_SP	12
#elif defined(__arm__)
typedef unsigned long nflua_jmp_buf[10];	/* r4-r11, sp, lr */
#define NFLUA_JMP_SP	8
#elif defined(__mips__)
typedef unsigned long nflua_jmp_buf[12];	/* s0-s8, gp, sp, ra */
#define NFLUA_JMP_SP	10
#else
#error "nflua: no setjmp/longjmp for this architecture (add port/setjmp-ARCH.S)"
#endif
/* Not declared noreturn, like Lua's error functions (see l_noret in nflua_luaconf.h): objtool
 * cannot see that across object files and would warn at every caller. */
int nflua_setjmp(nflua_jmp_buf env) __attribute__((returns_twice));
void nflua_longjmp(nflua_jmp_buf env, int val);
/* Lua's error jump (LUAI_THROW): nflua_longjmp, after clearing what KASAN left on the frames
 * it drops (libc.c). */
void nflua_unwind(nflua_jmp_buf env);

/* <stdlib.h>, <stdio.h>: only what lauxlib.c's file helpers name; they are never called. */
typedef struct nflua_file FILE;
#define stdin		((FILE *)NULL)
#define stdout		((FILE *)NULL)
#define stderr		((FILE *)NULL)
#define EOF		(-1)
static inline FILE *fopen(const char *p, const char *m) { return NULL; }
static inline FILE *freopen(const char *p, const char *m, FILE *f) { return NULL; }
static inline int fclose(FILE *f) { return EOF; }
static inline int getc(FILE *f) { return EOF; }
static inline int ferror(FILE *f) { return 1; }
static inline int feof(FILE *f) { return 1; }
static inline size_t fread(void *b, size_t s, size_t n, FILE *f) { return 0; }
static inline size_t fwrite(const void *b, size_t s, size_t n, FILE *f) { return 0; }
static inline int fflush(FILE *f) { return 0; }
static inline const char *strerror(int e) { return "error"; }
#define BUFSIZ		256
static int errno __maybe_unused;

void nflua_abort(void);
#define abort()		nflua_abort()
#define free(p)		kfree(p)
#define realloc(p, n)	krealloc((p), (n), GFP_ATOMIC)
#define strcoll(a, b)	nflua_strcoll((a), (b))

/* <signal.h> */
typedef int sig_atomic_t;

/* <locale.h> */
#define lua_getlocaledecpoint()	'.'

/* <math.h> and <float.h>, for a lua_Number that is a 64-bit integer */
#define HUGE_VAL	LLONG_MAX
#define floor(x)	((long long)(x))
#define fabs(x)		nflua_llabs(x)
#define ldexp(x, e)	nflua_ldexp((x), (e))
static inline long long nflua_llabs(long long x) { return x < 0 ? -x : x; }
static inline long long nflua_ldexp(long long x, int e) { return e >= 0 ? x << e : x >> -e; }

/* <assert.h> */
#define assert(c)	((void)0)

struct lua_State;

/*
 * The C stack guard (port/cstack.c). Lua's own C-call counter (LUAI_MAXCCALLS) is checked at
 * every nesting of C calls and parser levels; nflua makes that check compare the real stack
 * position with limits set at each entry into Lua (nflua_cstack_enter). Frame addresses below
 * 'soft' raise "C stack overflow" (catchable, like Lua's own); below 'hard', while that error is
 * handled, "error in error handling". docs/kernel-lua.md has the measured numbers.
 */
struct nflua_cstack {
	unsigned long entry;		/* frame address where Lua was entered */
	unsigned long soft, hard;	/* stack grows down: limits are lower addresses */
	unsigned long lowest;		/* deepest frame address seen by a check */
	int overflow_at;		/* C-call count where "C stack overflow" was raised */
	unsigned int steps;		/* library work not yet charged to the budget */
};
void nflua_cstack_enter(struct nflua_cstack *g);
/* Around a packet-path entry (xt_lua.c): Lua entered again below it on the same non-task stack
 * (a packet it sends passing rules that call Lua) measures from it. begin returns a token for
 * end (0 if this region is not the outermost). */
unsigned long nflua_cstack_outer_begin(void);
void nflua_cstack_outer_end(unsigned long token);
int nflua_ccall_limit(struct lua_State *L);

/*
 * The budget also bounds work done inside one C function, where the count hook cannot fire
 * (a backtracking pattern match, table.move over a huge range, sorting): every Lua API call
 * (lua_lock, which Lua calls on entry to each) and every pattern-match step costs one
 * instruction, charged in batches by nflua_charge_steps (src/state.c), which may raise the
 * budget error, but only inside a protected call.
 */
#define NFLUA_STEP_BATCH	1024
void nflua_api_step(struct lua_State *L);
void nflua_charge_steps(struct lua_State *L, struct nflua_cstack *g);

/*
 * Work that does not go through the API or the VM loop (src/budget.c): comparing, scanning,
 * copying, collecting, compiling. Charged at these rates, in bytes (or stack slots) per VM
 * instruction, measured under TCG so that no kind of work costs much more time per charged
 * instruction than the VM loop itself (docs/kernel-lua.md). nflua_work may raise the budget
 * error where Lua may raise one; nflua_record never raises: it charges the call running on
 * this CPU and makes its next instruction or API call raise when the budget is gone.
 */
#define NFLUA_WORK_FAST		64	/* memchr, memcmp */
#define NFLUA_WORK_SLOW		16	/* byte-at-a-time loops; bytes allocated */
#define NFLUA_WORK_SET		4	/* bytes of a pattern's set per subject byte; formats */
#define NFLUA_WORK_SLOTS	16	/* Lua stack slots copied */
#define NFLUA_WORK_LEX		8	/* bytes of source compiled */
#define NFLUA_WORK_GC		32	/* bytes of heap a full collection walks */
#define NFLUA_WORK_NEST		16	/* instructions per C-to-Lua call level (cstack.c) */
#define NFLUA_WORK_THROW	64	/* instructions per error raised (unwinding, messages) */
#define NFLUA_WORK_HANDLER	64	/* per error handed to a message handler (an error raised in
					 * the handler is handed to it again, and thrown only when
					 * that recursion ends) */
#define NFLUA_WORK_ERRERR	16384	/* "error in error handling": the end of a handler recursion
					 * as deep as the C stack allows (measured: 2 ms under TCG) */
#define NFLUA_WORK_BLOCK	16	/* instructions per block allocated, and per live block a
					 * full collection visits */
void nflua_work(struct lua_State *L, size_t n);
void nflua_record(size_t n);
void nflua_thread_switch(struct lua_State *from, struct lua_State *to);
void nflua_work_throw(struct lua_State *L, int status);
int nflua_strcoll(const char *a, const char *b);

long long nflua_numidiv(struct lua_State *L, long long a, long long b);
long long nflua_nummod(struct lua_State *L, long long a, long long b);
long long nflua_numpow(struct lua_State *L, long long a, long long b);
long long nflua_str2number(const char *s, char **endp);
void nflua_throw(struct lua_State *L);
void nflua_writestring(const char *s, size_t len);

#endif
