// SPDX-License-Identifier: GPL-2.0
/*
 * The budget's reach beyond the VM loop: one instruction count per call across all of a state's
 * threads, and the work that Lua does inside one instruction or one library call (comparing,
 * scanning, copying, compiling), charged by size (rates in nflua_libc.h). The count hook and
 * the budget error are in state.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/percpu.h>

#include "state.h"

#include "lua.h"
#include "lstate.h"

/* The state whose call runs on this CPU: calls run with bottom halves off under the state's
 * lock, so nothing else runs Lua here until the call returns. */
static DEFINE_PER_CPU(struct nflua_state *, nflua_cur);

struct nflua_state *nflua_budget_enter(struct nflua_state *s)
{
	struct nflua_state *old = this_cpu_read(nflua_cur);

	this_cpu_write(nflua_cur, s);
	s->running = s->L;
	return old;
}

void nflua_budget_leave(struct nflua_state *s, struct nflua_state *old)
{
	s->running = NULL;
	this_cpu_write(nflua_cur, old);
}

/* True when the call has used its budget, counting the work not yet charged. */
bool nflua_budget_spent(struct nflua_state *s, size_t more)
{
	return s->exhausted || (u64)s->used + s->cstack.steps + more >= s->budget;
}

/* Adds n to the work not yet charged. Once that spends the budget, the running thread's next
 * instruction calls the count hook (it raises there) and so does the next API call. */
void nflua_budget_add(struct nflua_state *s, size_t n)
{
	struct nflua_cstack *g = &s->cstack;

	g->steps = n < UINT_MAX - g->steps ? g->steps + n : UINT_MAX;
	if (g->steps >= NFLUA_STEP_BATCH && s->running && nflua_budget_spent(s, 0))
		s->running->hookcount = 1;	/* what lua_sethook does, without touching traps:
						 * a count hook keeps them set in every Lua frame */
}

void nflua_work(lua_State *L, size_t n)
{
	struct nflua_state *s = nflua_state_of(L);

	nflua_budget_add(s, n);
	if (s->cstack.steps >= NFLUA_STEP_BATCH && L->errorJmp)
		nflua_charge_steps(L, &s->cstack);
}

void nflua_record(size_t n)
{
	struct nflua_state *s = this_cpu_read(nflua_cur);

	if (s)
		nflua_budget_add(s, n);
}

/*
 * lua_resume and lua_closethread run code in another thread: it continues the count of the
 * thread that ran until now, and gives it back when it stops. Each thread has its own hook
 * count in Lua; without this a coroutine started with a fresh count (up to NFLUA_HOOK_STEP
 * instructions never charged, per coroutine and per nesting level), and one that was resumed
 * after the budget ran out ran that far before failing.
 */
void nflua_thread_switch(lua_State *from, lua_State *to)
{
	if (!from || !to)
		return;
	if (to->hook != from->hook || to->hookmask != from->hookmask ||
	    to->basehookcount != from->basehookcount)
		lua_sethook(to, from->hook, from->hookmask, from->basehookcount);
	to->hookcount = from->hookcount;
	nflua_state_of(to)->running = to;
}

/* An error raised (LUAI_THROW): its message, the unwinding and the handlers cost more than an
 * instruction, and an error in error handling ends a recursion of handlers as deep as the C
 * stack. Charged only, since it is already on its way out. */
void nflua_work_throw(lua_State *L, int status)
{
	struct nflua_state *s = nflua_state_of(L);

	if (s)	/* NULL while lua_newstate runs */
		nflua_budget_add(s, status == LUA_ERRERR ? NFLUA_WORK_ERRERR : NFLUA_WORK_THROW);
}

/* strcoll for Lua's string comparisons (lvm.c, l_strcmp): charged per byte compared. */
int nflua_strcoll(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	nflua_record(1 + i / NFLUA_WORK_SLOW);
	return (unsigned char)a[i] - (unsigned char)b[i];
}
