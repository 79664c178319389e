// SPDX-License-Identifier: MIT
/*
 * The C stack guard. Kernel stacks are small (16 KiB on x86_64 and arm64, 8 KiB on 32-bit
 * arm and mips) and a Lua -> C -> Lua nesting costs 300 to 2000 bytes of them, depending on the
 * C function (a pcall about 700, a gsub callback about 1100): no fixed count of nestings is
 * both safe and useful, so the limit is the stack itself, measured at each check.
 */
#define LUA_CORE

#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/sched/task_stack.h>
#include <linux/thread_info.h>

#include "lua.h"
#include "lstate.h"

/* Kept free below 'hard' for what runs between two checks (a sort's recursion, a pattern
 * match: about 2 KiB measured on x86_64, 1.4 KiB on 32-bit arm and mips) plus raising the
 * error. The band between 'soft' and 'hard' is the room to handle the error: the first check
 * below 'soft' may come one whole nesting below it (a gsub callback level: 1.1 KiB on x86_64
 * and mips), and the message handler's call must pass its check for the error to stay "C stack
 * overflow" (else it becomes "error in error handling": still an error, only a worse message).
 * On 8 KiB stacks THREAD_SIZE / 10 (819 bytes) is too little for that on mips: where the
 * stack's depth is known, the band has a floor; on a stack of unknown depth (half of it assumed
 * used) that floor would leave a filter almost no nesting. */
#define NFLUA_CSTACK_RESERVE	(THREAD_SIZE / 4)
#define NFLUA_CSTACK_BAND	(THREAD_SIZE / 10)
#define NFLUA_CSTACK_TASK_BAND	max_t(unsigned long, NFLUA_CSTACK_BAND, 1536)
/*
 * On a stack that is not the task's (a softirq on the IRQ stack, where a router forwards most
 * packets): on 32-bit arm and mips, IRQ stacks are THREAD_SIZE bytes aligned to THREAD_SIZE
 * (arm: init_irq_stacks, __get_free_pages or __vmalloc_node with THREAD_ALIGN; mips: init_IRQ,
 * __get_free_pages of THREAD_SIZE's order), so what is left of one is exact. Elsewhere its depth
 * is unknown here (x86_64's IRQ stack is vmapped without that alignment): assume at most half
 * of THREAD_SIZE is used. On 8 KiB stacks that half left a filter about 1.2 KiB of nesting,
 * which a pkt field read through __index inside a pcall already exceeds.
 */
#if defined(CONFIG_ARM) || defined(CONFIG_MIPS)
#define NFLUA_CSTACK_OTHER_EXACT	1
#define NFLUA_CSTACK_OTHER(sp)		((sp) & (THREAD_SIZE - 1))
#else
#define NFLUA_CSTACK_OTHER_EXACT	0
#define NFLUA_CSTACK_OTHER(sp)		(THREAD_SIZE / 2)
#endif

/*
 * Entries nested on one non-task stack: while the match or target runs (nflua_cstack_outer_*,
 * from xt_lua.c), a packet it sends from there (the "reset" verdict's RST, through OUTPUT) can
 * enter Lua again below it on the same stack, as can the rules that such a packet meets. The
 * assumption above holds for the outermost entry only: a nested one measures from the first
 * entry of the outermost region (its 'sp' and 'avail'), so nesting never gains stack. Per CPU:
 * a non-task stack belongs to its CPU, and what runs on it is not preempted.
 */
struct nflua_cstack_outer {
	unsigned long owner;	/* frame of the outermost region, 0 if none */
	unsigned long sp;	/* its first Lua entry, 0 until then */
	unsigned long avail;	/* what that entry assumed free */
};

static DEFINE_PER_CPU(struct nflua_cstack_outer, nflua_cstack_outer);

static inline unsigned long nflua_sp(void)
{
	return (unsigned long)__builtin_frame_address(0);
}

unsigned long nflua_cstack_outer_begin(void)
{
	unsigned long sp = nflua_sp();
	struct nflua_cstack_outer *o;

	if (object_is_on_stack((void *)sp))
		return 0;	/* the task's stack: measured exactly at every entry */
	o = this_cpu_ptr(&nflua_cstack_outer);
	if (o->owner)
		return 0;	/* nested: the outer region stays the reference */
	o->owner = sp;
	o->sp = 0;
	return sp;
}

void nflua_cstack_outer_end(unsigned long token)
{
	struct nflua_cstack_outer *o;

	if (!token)
		return;
	o = this_cpu_ptr(&nflua_cstack_outer);
	o->owner = 0;
	o->sp = 0;
}

/* What is free below sp on a stack that is not the task's (callers hold a spinlock). */
static unsigned long nflua_cstack_other_avail(unsigned long sp)
{
	struct nflua_cstack_outer *o = this_cpu_ptr(&nflua_cstack_outer);
	unsigned long avail = NFLUA_CSTACK_OTHER(sp);

	/* inside an outermost region on this same stack? */
	if (!o->owner || sp > o->owner || o->owner - sp >= THREAD_SIZE)
		return avail;
	if (!o->sp) {		/* its first entry: the reference for the nested ones */
		o->sp = sp;
		o->avail = avail;
	} else if (sp <= o->sp) {
		avail = min(avail, o->avail > o->sp - sp ? o->avail - (o->sp - sp) : 0);
	}
	return avail;
}

void nflua_cstack_enter(struct nflua_cstack *g)
{
	unsigned long sp = nflua_sp(), avail, usable, band;

	if (object_is_on_stack((void *)sp)) {
		avail = sp - (unsigned long)task_stack_page(get_current());
		band = NFLUA_CSTACK_TASK_BAND;
	} else {
		avail = nflua_cstack_other_avail(sp);
		band = NFLUA_CSTACK_OTHER_EXACT ? NFLUA_CSTACK_TASK_BAND : NFLUA_CSTACK_BAND;
	}
	/* never into the reserve: with too little stack, the first nesting is an overflow */
	usable = avail > NFLUA_CSTACK_RESERVE + band ? avail - NFLUA_CSTACK_RESERVE - band : 0;
	g->entry = g->lowest = sp;
	g->soft = sp - usable;
	g->hard = g->soft - band;
	g->overflow_at = 0;
	g->steps = 0;
}

void nflua_api_step(lua_State *L)
{
	nflua_api_step_here(L);
}

/*
 * The value of LUAI_MAXCCALLS at a check site. Lua raises "C stack overflow" when the count
 * equals the limit, lets a count above it go on (error handling), and throws LUA_ERRERR past
 * 110% of it (lstate.c: luaE_checkcstack). Each site evaluates the limit up to three times:
 * every evaluation at the same point must give the same answer.
 */
int nflua_ccall_limit(lua_State *L)
{
	struct nflua_cstack *g = nflua_guard(L);
	unsigned long sp = nflua_sp();
	int n = getCcalls(L);

	if (!g)
		return NFLUA_MAXCCALLS;
	/* Lua asks at every C call level (a callback, a metamethod, an error handler) and
	 * parser level, each much dearer than an instruction: charged, raised at the next step */
	g->steps += NFLUA_WORK_NEST;
	if (sp < g->lowest)
		g->lowest = sp;
	if (sp > g->soft) {
		g->overflow_at = 0;
		return NFLUA_MAXCCALLS;
	}
	if (g->overflow_at == 0)
		g->overflow_at = n;
	if (n <= g->overflow_at)
		return n;		/* raise "C stack overflow" */
	if (sp > g->hard)
		return INT_MAX;		/* handling that error: go on */
	return 1;			/* deeper still: LUA_ERRERR, no more calls */
}
