/* SPDX-License-Identifier: MIT */
/*
 * Our kernel configuration of Lua 5.4, included at the end of luaconf.h (the one line our patch
 * adds there). Everything here overrides luaconf.h's defaults; docs/kernel-lua.md says what the
 * resulting language differs in from standard Lua, and why.
 */
#ifndef NFLUA_LUACONF_H
#define NFLUA_LUACONF_H

#include "libc/nflua_libc.h"

/* Numbers are integers only: the kernel has no floating point. 'lua_Number' (Lua's "float"
 * subtype) becomes a 64-bit integer too, so the rare operations that still produce it ('/' and
 * '^') give integer values. Float literals do not parse ("malformed number"). */
#undef LUA_FLOAT_TYPE
#undef LUA_NUMBER
#undef LUAI_UACNUMBER
#undef LUA_NUMBER_FMT
#undef LUAI_NUMFFORMAT
#undef lua_number2str
#undef lua_str2number
#undef l_mathop
#undef l_floatatt
#undef lua_number2strx
#undef LUA_USE_C89
#define LUA_NUMBER		long long
#define LUAI_UACNUMBER		long long
#define LUA_NUMBER_FMT		"%lld"
#define LUAI_NUMFFORMAT		"%lld"
#define l_mathop(op)		op
#define l_floatatt(n)		(NFLUA_FLT_##n)
#define NFLUA_FLT_MANT_DIG	63
#define lua_number2str(s, sz, n)	snprintf((s), (sz), "%lld", (long long)(n))
#define lua_str2number(s, p)	nflua_str2number((s), (p))
#define lua_number2strx(L, b, sz, f, n)	((void)(L), snprintf((b), (sz), "%lld", (long long)(n)))

/* Arithmetic on the "float" subtype: integer operations that never trap the CPU. Division by
 * zero is an error, and MININT / -1 wraps as integer '//' does. '/' is floor division, like '//'. */
#define luai_numdiv(L, a, b)	nflua_numidiv((L), (a), (b))
#define luai_numidiv(L, a, b)	nflua_numidiv((L), (a), (b))
#define luai_nummod(L, a, b, m)	((m) = nflua_nummod((L), (a), (b)))
#define luai_numpow(L, a, b)	nflua_numpow((L), (a), (b))
#undef lua_numbertointeger
#define lua_numbertointeger(n, p)	((*(p) = (LUA_INTEGER)(n)), 1)

/* Hash of a "float" key, non-negative (such keys are normalized to integers anyway). */
#define l_hashfloat(n)	((int)(((unsigned long long)(n) ^ ((unsigned long long)(n) >> 32)) & INT_MAX))

/* 'string.format' has no float conversions and 'string.pack' no float options (see patch). */
#define LUA_NOFLOAT		1

/* Stack use. Kernel stacks are 16 KiB (x86_64, arm64) or 8 KiB (32-bit arm, mips). Each nesting
 * of C calls (Lua -> C -> Lua, parser levels, metamethods) costs a kernel stack frame chain;
 * docs/kernel-lua.md has the measured frame sizes and the arithmetic behind these numbers. */
#define NFLUA_MAXCCALLS		200	/* Lua's default: the stack guard decides first */
#define NFLUA_MAXMATCHCALLS	20	/* pattern items that recurse in lstrlib's match() */
#undef LUAL_BUFFERSIZE
#define LUAL_BUFFERSIZE		256
#define LUAI_MAXCCALLS		nflua_ccall_limit(L)
#define LUA_MAXCAPTURES		16
#define MAXCCALLS		NFLUA_MAXMATCHCALLS	/* lstrlib.c: pattern matching depth */
#undef LUAI_MAXSTACK
#define LUAI_MAXSTACK		100000			/* Lua stack slots (heap, not C stack) */

/* No stdio: Lua's print and warnings go to the kernel log, rate-limited. */
#define lua_writestring(s, l)		nflua_writestring((s), (l))
#define lua_writeline()			nflua_writestring("\n", 1)
#define lua_writestringerror(fmt, p)	pr_warn_ratelimited("nflua: " fmt, (p))

/* Seeds and pivots from the kernel's RNG instead of time() and clock(). */
#define luai_makeseed(L)		((unsigned int)get_random_u32())
#define l_randomizePivot()	((unsigned int)get_random_u32())

/* Library work counts against the budget (see nflua_libc.h): a step per API call (lua_lock)
 * and per pattern-match step. Only inside a protected call may the charge raise an error;
 * outside (nflua's own calls around lua_pcall, lua_close) the steps wait for the next charge.
 * Written out where Lua's core files use it (they all have lstate.h): every API call passes
 * here, and a call of its own cost about 3% of the CPU under the SNI filter
 * (bench/profile.md); lstrlib.c, which has no lstate.h, calls nflua_api_step (port/cstack.c). */
/* The state's C stack guard (and budget steps), kept in its main thread's extra space. */
#define nflua_guard(L)		(*(struct nflua_cstack **)lua_getextraspace(G(L)->mainthread))
#define nflua_api_step_here(L)	do { lua_State *nflua_l_ = (L); \
				     struct nflua_cstack *nflua_g_ = nflua_guard(nflua_l_); \
				     if (nflua_g_ && ++nflua_g_->steps >= NFLUA_STEP_BATCH && \
					 nflua_l_->errorJmp) \
					     nflua_charge_steps(nflua_l_, nflua_g_); } while (0)
#define lua_lock(L)		nflua_api_step_here(L)
#define lua_unlock(L)		((void)0)
#define luai_matchstep(L)	nflua_api_step(L)

/* Work that one instruction or one library call does in proportion to a size, charged by the
 * rates in nflua_libc.h (hooks our patch adds to Lua; docs/kernel-lua.md, "Bounded time"). */
#define nflua_work_at(L, n, rate)	do { size_t n_ = (n) / (rate); \
					     if (n_) nflua_work((L), n_); } while (0)
#define luai_findwork(L, n)	nflua_work((L), 1 + (size_t)(n) / NFLUA_WORK_FAST)
#define luai_bytework(L, n)	nflua_work_at((L), (size_t)(n), NFLUA_WORK_SLOW)
#define luai_slotwork(L, n)	nflua_work_at((L), (size_t)(n), NFLUA_WORK_SLOTS)
#define luai_lexwork(L, n)	nflua_work_at((L), (size_t)(n), NFLUA_WORK_LEX)
#define luai_setwork(L, n)	do { if ((n) > 32) nflua_work((L), (n) / NFLUA_WORK_SET); } while (0)
#define luai_cmpwork(n)		do { size_t n_ = (n) / NFLUA_WORK_FAST; \
				     if (n_) nflua_record(n_); } while (0)
#define luai_scanwork(n)	do { size_t n_ = (n) / NFLUA_WORK_SLOW; \
				     if (n_) nflua_record(n_); } while (0)
/* The budget's count hook (LUA_MASKCOUNT alone) counted down in the VM loop while it is not
 * due: a call of luaG_traceexec before every instruction cost 3.4% of the CPU under the SNI
 * filter, self, besides the call itself (docs/kernel-lua.md). It is still called when the count
 * reaches 1 (it fires on the decrement to 0), and for any other hook, as before. */
#define luai_countdown(L)	((L)->hookmask == LUA_MASKCOUNT && (L)->hookcount > 1 ? \
				 ((L)->hookcount--, 1) : 0)
/* The instruction count is the call's, not a thread's: it moves with the running thread. */
#define luai_threadswitch(from, to)	nflua_thread_switch((from), (to))
#define luai_handlerwork(L)	nflua_work((L), NFLUA_WORK_HANDLER)

/* Lua's error functions do not return, but objtool cannot know that across object files and
 * would warn at every call; letting the compiler emit the (dead) return paths keeps the build
 * free of warnings. */
#define l_noret			void

/* No computed gotos in the VM loop: objtool rejects the indirect jumps of a jump table. */
#define LUA_USE_JUMPTABLE	0

/* One extra pointer per lua_State: our state (see state.c). */
#undef LUA_EXTRASPACE
#define LUA_EXTRASPACE		(sizeof(void *))

/* Errors unwind with our setjmp/longjmp (port/setjmp-*.S). */
#define LUAI_THROW(L, c)	(nflua_work_throw((L), (c)->status), nflua_unwind((c)->b))
#define LUAI_TRY(L, c, a)	if (nflua_setjmp((c)->b) == 0) { a }
#define luai_jmpbuf		nflua_jmp_buf

#endif
