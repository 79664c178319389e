// SPDX-License-Identifier: GPL-2.0
/*
 * The Lua side of a state: the memory-capped allocator, the instruction budget, protected
 * calls, and the operations that run code (execute, send).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/errno.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "lstate.h"
#include "lobject.h"
#include "lgc.h"
#include "ltable.h"

#include "nflua.h"
#include "state.h"
#include "reply.h"
#include "lualib_nflua.h"
#include "packet.h"

#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>

#define NFLUA_HOOK_STEP		1000U	/* budget granularity, in VM instructions */
#define NFLUA_REFUSE_MIN	1024U	/* smaller allocations pass even when the budget is spent
					 * (the budget error's message is one) */

/* A backstop in wall time, checked where the budget is charged: the budget bounds a call's
 * work, and this catches work that a rate undercharges (docs/kernel-lua.md, "Bounded time").
 * A kernel that runs the same work several times slower (a debug kernel: KASAN checks every
 * access and records a stack trace at every allocation) needs it scaled, or calls that fit
 * their budget end on the clock; capped below the soft-lockup report (20 s). */
static unsigned int call_max_ms = 5000;
module_param(call_max_ms, uint, 0644);
MODULE_PARM_DESC(call_max_ms, "wall-clock limit of one Lua call in ms (100 to 15000, default 5000)");

static unsigned int nflua_call_max_ms(void)
{
	return clamp(READ_ONCE(call_max_ms), 100U, 15000U);
}

static void nflua_count_hook(lua_State *L, lua_Debug *ar);

/*
 * Lua's allocator. Refuses past maxalloc or past the module's max_mem (Lua then collects
 * garbage and retries, and raises "not enough memory" if that is not enough). Lua runs with
 * the state's spinlock held, so it allocates atomically then; only creation and closing run
 * preemptible (may_sleep). A control request (execute, send, create) charges what it
 * allocates to the caller's memory cgroup; packets run in softirq or in whatever task sent
 * them, so their allocations are charged to no cgroup.
 */
static void *nflua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct nflua_state *s = ud;
	gfp_t gfp = s->may_sleep ? GFP_KERNEL : GFP_ATOMIC;
	void *p;

	if (s->account)
		gfp |= __GFP_ACCOUNT;
	if (!ptr) {
		/* osize is a type tag then; the main thread's extra space must start zeroed */
		if (osize == LUA_TTHREAD)
			gfp |= __GFP_ZERO;
		osize = 0;
	}
	if (nsize == 0) {
		nflua_kfree(ptr, osize);
		nflua_mem_uncharge(osize);
		s->mem -= osize;
		return NULL;
	}
	if (nsize > osize) {
		if (nsize - osize > s->maxalloc - s->mem || nsize > KMALLOC_MAX_SIZE) {
			s->alloc_fails++;
			return NULL;
		}
		if (!nflua_mem_charge(nsize - osize)) {
			s->max_mem_hit = true;
			s->alloc_fails++;
			return NULL;
		}
	}
	p = nflua_krealloc(ptr, osize, nsize, gfp | __GFP_NOWARN);
	if (!p) {
		if (nsize > osize)
			nflua_mem_uncharge(nsize - osize);
		s->alloc_fails++;
		return NULL;
	}
	if (nsize < osize)
		nflua_mem_uncharge(osize - nsize);
	s->mem = s->mem - osize + nsize;
	if (s->mem > s->peak)
		s->peak = s->mem;
	return p;
}

/* Runs fn as a control request: under the lock, charged to the caller's memory cgroup, and
 * with a memory error that names max_mem when that was the limit reached. */
static int nflua_state_request(struct nflua_state *s, nflua_cfn fn, void *ctx,
			       struct nflua_reply *reply)
{
	int err;

	spin_lock_bh(&s->lock);
	s->account = true;
	s->max_mem_hit = false;
	err = nflua_state_pcall(s, fn, ctx, reply);
	if (err == ENOMEM && s->max_mem_hit)
		nflua_reply_error(reply, ENOMEM,
				  "not enough memory: all states together reached the module's max_mem=%lu bytes",
				  nflua_max_mem());
	s->account = false;
	spin_unlock_bh(&s->lock);
	return err;
}

/*
 * Allocations are charged to the budget as work (every byte a library function produces is
 * allocated first), and refused once the call's budget is spent, so that no long copy or fill
 * starts then. Lua answers a refused allocation with a full collection and one retry: that
 * walk is charged too. State creation and closing (no call running) are not charged. 'blocks'
 * counts what a full collection visits.
 */
static void *nflua_budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct nflua_state *s = ud;
	size_t grow = nsize > (ptr ? osize : 0) ? nsize - (ptr ? osize : 0) : 0;
	size_t work;
	void *p;

	if (!grow || !s->running) {
		p = nflua_alloc(ud, ptr, osize, nsize);
		if (nsize == 0 && ptr)
			s->blocks--;
		else if (p && !ptr)
			s->blocks++;
		return p;
	}
	work = grow / NFLUA_WORK_SLOW + (ptr ? 0 : NFLUA_WORK_BLOCK);
	/* what maxalloc refuses stays a memory error ("not enough memory", ENOMEM) */
	if (grow >= NFLUA_REFUSE_MIN && grow <= s->maxalloc - s->mem && nsize <= KMALLOC_MAX_SIZE &&
	    nflua_budget_spent(s, work)) {
		nflua_budget_add(s, work + nflua_gc_work(s));
		return NULL;
	}
	p = nflua_alloc(ud, ptr, osize, nsize);
	if (!p) {
		/* a memory error, not work: only the collection Lua runs before its one retry
		 * (half of it per refusal) */
		nflua_budget_add(s, nflua_gc_work(s) / 2);
		return NULL;
	}
	nflua_budget_add(s, work);
	if (!ptr)
		s->blocks++;
	return p;
}

/* Pushes "chunk:line: " of the innermost Lua function running (the budget may run out inside
 * a C function such as string.find, whose caller is the place to name). */
static void nflua_where(lua_State *L)
{
	lua_Debug ar;
	int level;

	for (level = 0; level < 4 && lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
			return;
		}
	}
	lua_pushliteral(L, "");
}

/* Raises the budget error (with the position of the running Lua function, if any). */
static void nflua_budget_error(lua_State *L, struct nflua_state *s)
{
	if (!s->exhausted) {
		s->exhausted = true;
		s->budget_hits++;
	}
	/* every instruction from now on fails, so the error cannot be caught and ignored */
	lua_sethook(L, nflua_count_hook, LUA_MASKCOUNT, 1);
	nflua_where(L);
	if (s->used < s->budget)
		lua_pushfstring(L, "instruction budget exhausted (time limit of %d ms)",
				(int)nflua_call_max_ms());
	else
		lua_pushfstring(L, "instruction budget exhausted (%d instructions)", (int)s->budget);
	lua_concat(L, 2);
	nflua_throw(L);	/* not lua_error: no message handler may run (see nflua_throw) */
}

static bool nflua_charge(struct nflua_state *s, u32 n)
{
	if (s->exhausted)
		return false;
	s->used += min(n, s->budget);
	return s->used < s->budget && time_before(jiffies, s->deadline);
}

/*
 * The budget: a count hook every hook_step instructions. Once the call has used its budget,
 * the hook fires on every instruction and raises an error each time, so a script cannot catch
 * the error with pcall and go on: every Lua instruction that follows fails until the call unwinds.
 */
static void nflua_count_hook(lua_State *L, lua_Debug *ar)
{
	struct nflua_state *s = nflua_state_of(L);
	u32 n = s->hook_step + s->cstack.steps;	/* and the library work not yet charged */

	s->cstack.steps = 0;
	if (!nflua_charge(s, n))
		nflua_budget_error(L, s);
	if (lua_gethookcount(L) != (int)s->hook_step)	/* a coroutine left at 1 */
		lua_sethook(L, nflua_count_hook, LUA_MASKCOUNT, s->hook_step);
}

/* Library work (API calls, pattern-match steps): see nflua_libc.h. */
void nflua_charge_steps(lua_State *L, struct nflua_cstack *g)
{
	struct nflua_state *s = container_of(g, struct nflua_state, cstack);
	u32 n = g->steps;

	g->steps = 0;
	if (!nflua_charge(s, n))
		nflua_budget_error(L, s);
}

/* Message handler: makes any error value a string, inside the protected call (a __tostring
 * metamethod may run, and converting may allocate). */
static int nflua_msgh(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TSTRING)
		luaL_tolstring(L, 1, NULL);
	return 1;
}

struct nflua_pcall {
	nflua_cfn fn;
	void *ctx;
};

static int nflua_pcall_trampoline(lua_State *L)
{
	struct nflua_pcall *c = lua_touserdata(L, 1);

	lua_settop(L, 0);
	return c->fn(L, c->ctx);
}

/* Opens a call: the budget's count and backstop, the C stack's limits, the count hook; pushes
 * the message handler at base + 1. */
static void nflua_call_begin(struct nflua_state *s, lua_State *L)
{
	s->used = 0;
	s->exhausted = false;
	s->deadline = jiffies + msecs_to_jiffies(nflua_call_max_ms());
	nflua_cstack_enter(&s->cstack);
	lua_sethook(L, nflua_count_hook, LUA_MASKCOUNT, s->hook_step);
	lua_pushcfunction(L, nflua_msgh);
}

/* Runs what is above the message handler at base + 1 (a function and nargs arguments) as a
 * protected call; on success leaves nres results above base, else leaves the stack at base and
 * words the error for 'reply' (or the log). */
static int nflua_call_run(struct nflua_state *s, lua_State *L, int base, int nargs, int nres,
			  struct nflua_reply *reply)
{
	struct nflua_state *outer;
	const char *msg;
	size_t len;
	int status, err;

	outer = nflua_budget_enter(s);
	status = lua_pcall(L, nargs, nres, base + 1);
	nflua_budget_leave(s, outer);
	s->calls++;
	s->stack_peak = max(s->stack_peak, s->cstack.entry - s->cstack.lowest);
	if (status == LUA_OK) {
		lua_remove(L, base + 1);	/* the message handler */
		return reply ? reply->err : 0;
	}
	s->errors++;
	if (status == LUA_ERRMEM && !s->exhausted && nflua_budget_spent(s, 0)) {
		s->exhausted = true;	/* an allocation refused for the budget */
		s->budget_hits++;
	}
	if (s->exhausted)
		err = ETIME;
	else if (status == LUA_ERRMEM)
		err = ENOMEM;
	else
		err = EINVAL;
	msg = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
	if (s->exhausted && status == LUA_ERRMEM) {
		/* "not enough memory" from an allocation refused for the budget */
		msg = "instruction budget exhausted";
		len = strlen(msg);
	}
	if (!reply)
		pr_notice_ratelimited("%s: %.200s\n", s->name, msg ?: "error object is not a string");
	else if (msg)
		nflua_reply_error_str(reply, err, msg, len);
	else
		nflua_reply_error(reply, err, "error object is not a string");
	lua_settop(L, base);
	return err;
}

int nflua_state_pcall(struct nflua_state *s, nflua_cfn fn, void *ctx, struct nflua_reply *reply)
{
	struct nflua_pcall c = { .fn = fn, .ctx = ctx };
	lua_State *L = s->L;
	int base, err;

	if (!L) {
		if (reply)
			nflua_reply_error(reply, ENOENT, "state '%s' was destroyed", s->name);
		return ENOENT;
	}
	base = lua_gettop(L);
	nflua_call_begin(s, L);
	lua_pushcfunction(L, nflua_pcall_trampoline);
	lua_pushlightuserdata(L, &c);
	err = nflua_call_run(s, L, base, 1, 0, reply);
	lua_settop(L, base);
	return err;
}

/* Pushes every value from 'first' to the top into the reply, converted as tostring() does. */
static int nflua_results_to_reply(lua_State *L, int first, struct nflua_reply *reply)
{
	int i, top = lua_gettop(L);

	for (i = first; i <= top; i++) {
		size_t len;
		const char *s = luaL_tolstring(L, i, &len);
		int err = nflua_reply_add(reply, s, len);

		if (err == -E2BIG)
			return luaL_error(L, "results are larger than a reply (%d KiB, %d values)",
					  NFLUA_REPLY_MAX >> 10, NFLUA_REPLY_FIELDS);
		if (err)
			return luaL_error(L, "not enough memory");
		lua_pop(L, 1);
	}
	return 0;
}

struct nflua_execute {
	const char *chunkname, *chunk;
	size_t len;
	struct nflua_reply *reply;
};

static int nflua_execute_fn(lua_State *L, void *ctx)
{
	struct nflua_execute *e = ctx;

	/* '=' makes Lua use the name as given in messages ("web:3:"); text only: Lua does
	 * not verify bytecode */
	lua_pushfstring(L, "=%s", e->chunkname);
	if (luaL_loadbufferx(L, e->chunk, e->len, lua_tostring(L, -1), "t") != LUA_OK)
		return lua_error(L);
	lua_remove(L, 1);	/* the name */
	lua_call(L, 0, LUA_MULTRET);
	return nflua_results_to_reply(L, 1, e->reply);
}

/* The replicas of a per-CPU state in CPU order; a normal state alone. */
#define nflua_for_each_replica(s, cpu, r)					\
	for ((cpu) = (s)->replicas ? cpumask_first(cpu_possible_mask) : 0;	\
	     (cpu) < nr_cpu_ids && ((r) = (s)->replicas ? (s)->replicas[cpu] : (s));	\
	     (cpu) = (s)->replicas ? cpumask_next(cpu, cpu_possible_mask) : nr_cpu_ids)

/* The error of 'from' into 'to', its message prefixed with "cpu N: ". */
static void nflua_reply_cpu_error(struct nflua_reply *to, int cpu, const struct nflua_reply *from)
{
	size_t len = from->nfields ? from->lens[0] : 0;
	char *msg = nflua_kmalloc(len + 16, GFP_KERNEL);
	int n;

	if (!msg) {
		nflua_reply_error(to, from->err, "cpu %d: (no memory for the message)", cpu);
		return;
	}
	n = scnprintf(msg, 16, "cpu %d: ", cpu);
	memcpy(msg + n, from->data, len);
	nflua_reply_error_str(to, from->err, msg, n + len);
	nflua_kfree(msg, len + 16);
}

/* Appends the fields of 'from' to 'to', after a "cpu=N results=K" field when framed. */
static int nflua_reply_append(struct nflua_reply *to, int cpu, bool split,
			      const struct nflua_reply *from)
{
	size_t off = 0;
	char hdr[40];
	u32 i;
	int err = 0;

	if (split)
		err = nflua_reply_add(to, hdr, cpu < 0 ?
				      scnprintf(hdr, sizeof(hdr), "cpu=all results=%u", from->nfields) :
				      scnprintf(hdr, sizeof(hdr), "cpu=%d results=%u", cpu, from->nfields));
	for (i = 0; !err && i < from->nfields; off += from->lens[i++])
		err = nflua_reply_add(to, from->data + off, from->lens[i]);
	return err;
}

/*
 * Runs one control request on each replica in CPU order, each under its own lock (packets keep
 * running on the other CPUs' replicas meanwhile). The first failure stops it: the reply is that
 * replica's error, prefixed "cpu N: "; the replicas before it keep what the request did, those
 * after it did not run it (docs/kernel-lua.md, "Per-CPU states").
 */
static int nflua_state_request_all(struct nflua_state *s, nflua_cfn fn, void *ctx,
				   struct nflua_reply **ctx_reply, bool split,
				   struct nflua_reply *reply)
{
	struct nflua_state *r;
	struct nflua_reply *one;
	unsigned int cpu;
	int err = 0;

	if (!s->replicas && !split) {
		*ctx_reply = reply;
		return nflua_state_request(s, fn, ctx, reply);
	}
	one = nflua_reply_new();
	if (!one) {
		nflua_reply_error(reply, ENOMEM, "no memory for a reply");
		return ENOMEM;
	}
	*ctx_reply = one;
	nflua_for_each_replica(s, cpu, r) {
		int id = s->replicas ? (int)cpu : -1;

		one->err = 0;
		one->nfields = 0;
		one->len = 0;
		err = nflua_state_request(r, fn, ctx, one);
		if (err) {
			if (s->replicas)
				nflua_reply_cpu_error(reply, id, one);
			else
				nflua_reply_error_str(reply, err, one->data, one->nfields ? one->lens[0] : 0);
			break;
		}
		if (nflua_reply_append(reply, id, split, one)) {
			err = E2BIG;
			nflua_reply_error(reply, err, "the replicas' results are larger than a reply (%d KiB, %d values)",
					  NFLUA_REPLY_MAX >> 10, NFLUA_REPLY_FIELDS);
			break;
		}
		/* each replica's call may hold this CPU for up to call_max_ms: let the scheduler
		 * in between, or several of them add up to a soft lockup on a kernel without
		 * preemption */
		cond_resched();
	}
	nflua_reply_free(one);
	return err;
}

int nflua_state_execute(struct nflua_state *s, const char *chunkname, const char *chunk,
			size_t len, bool split, struct nflua_reply *reply)
{
	struct nflua_execute e = { chunkname, chunk, len, reply };

	return nflua_state_request_all(s, nflua_execute_fn, &e, &e.reply, split, reply);
}

struct nflua_send {
	const char *data;
	size_t len;
	struct nflua_reply *reply;
};

static int nflua_send_fn(lua_State *L, void *ctx)
{
	struct nflua_send *m = ctx;

	if (lua_getglobal(L, "on_receive") != LUA_TFUNCTION) {
		/* an error reply has one field, the message (docs/protocol.md) */
		nflua_reply_error(m->reply, ENOSYS, "the state has no global function 'on_receive'");
		return 0;
	}
	lua_pushlstring(L, m->data, m->len);
	lua_call(L, 1, LUA_MULTRET);
	return nflua_results_to_reply(L, 1, m->reply);
}

int nflua_state_send(struct nflua_state *s, const char *data, size_t len, bool split,
		     struct nflua_reply *reply)
{
	struct nflua_send m = { data, len, reply };

	return nflua_state_request_all(s, nflua_send_fn, &m, &m.reply, split, reply);
}

/* ---- the packet path: softirq, or process context with bottom halves disabled ---- */

struct nflua_packet_call {
	const char *function;
	struct nflua_packet *p;
	bool target;
	int verdict;		/* target: NF_* or XT_CONTINUE; match: 1, 0, or -1 (error) */
};

static const struct {
	const char *name;
	unsigned int verdict;
} nflua_verdicts[] = {
	{ "continue", XT_CONTINUE },
	{ "accept", NF_ACCEPT },
	{ "drop", NF_DROP },
	{ "reset", NF_DROP },	/* and a TCP reset (xt_lua.c) */
};

/*
 * The function a rule calls, without looking its name up for every packet: each entry of
 * s->fn_cache remembers the node of the globals table that holds the name. The node is
 * valid while the table keeps the same node array (same address and size: a rehash makes a
 * new one) and the node still holds the name as a live key. A reassignment writes the new
 * value into that same node, so the value read there is always the global's current value;
 * a removal leaves nil there (or a dead key, after a collection), and a rehash moves the key:
 * both send the call to the full lookup, which refills the entry. The name is anchored in the
 * registry so that its address cannot be a new string's. An entry is found by the address of
 * the rule's name and checked against its text: addresses of freed rules come back.
 */
static const char nflua_fn_anchor;

static bool nflua_fn_cached(lua_State *L, struct nflua_state *s, const char *name)
{
	Table *g = hvalue(&hvalue(&G(L)->l_registry)->array[LUA_RIDX_GLOBALS - 1]);
	struct nflua_fn_cache *e;

	for (e = s->fn_cache; e < s->fn_cache + ARRAY_SIZE(s->fn_cache); e++) {
		const Node *n = e->slot;

		/* the address first (cheap); the text too: a rule deleted and another created can
		 * get the same address for another name (nft_compat frees and allocates rule data
		 * of one size), and must not be given the first one's function */
		if (e->name != name || strcmp(getstr((const TString *)e->key), name) != 0)
			continue;
		if (e->nodes != g->node || e->lsize != g->lsizenode ||
		    keytt(n) != ctb(LUA_VSHRSTR) || keyval(n).gc != e->key ||
		    !ttisfunction(gval(n)))
			return false;
		lua_pushnil(L);
		setobj2s(L, L->top.p - 1, gval(n));
		return true;
	}
	return false;
}

/* The full lookup; leaves the global on the stack and fills an entry for it. */
static int nflua_fn_lookup(lua_State *L, struct nflua_state *s, const char *name)
{
	Table *g = hvalue(&hvalue(&G(L)->l_registry)->array[LUA_RIDX_GLOBALS - 1]);
	struct nflua_fn_cache *e = NULL;
	const TValue *v;
	TString *key;
	size_t i;

	if (lua_getglobal(L, name) != LUA_TFUNCTION)
		return LUA_TNIL;
	lua_pushstring(L, name);
	key = tsvalue(s2v(L->top.p - 1));
	if (key->tt != LUA_VSHRSTR) {
		lua_pop(L, 1);
		return LUA_TFUNCTION;	/* a long name: looked up every time */
	}
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &nflua_fn_anchor) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &nflua_fn_anchor);
	}
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);	/* anchor[name] = true */
	lua_pop(L, 2);
	v = luaH_getshortstr(g, key);
	if (isabstkey(v))
		return LUA_TFUNCTION;	/* not a node of the hash part */
	for (i = 0; i < ARRAY_SIZE(s->fn_cache); i++)
		if (s->fn_cache[i].name == name)
			e = &s->fn_cache[i];
	if (!e) {
		e = &s->fn_cache[s->fn_cache_next];
		s->fn_cache_next = (s->fn_cache_next + 1) % ARRAY_SIZE(s->fn_cache);
	}
	e->name = name;
	e->key = key;
	e->nodes = g->node;
	e->lsize = g->lsizenode;
	e->slot = (const Node *)v;	/* a node's value is its first member */
	return LUA_TFUNCTION;
}

void nflua_state_forget_function(struct nflua_state *s, const char *function)
{
	struct nflua_state *r;
	unsigned int cpu;
	size_t i;

	nflua_for_each_replica(s, cpu, r) {
		spin_lock_bh(&r->lock);
		for (i = 0; i < ARRAY_SIZE(r->fn_cache); i++)
			if (r->fn_cache[i].name == function)
				r->fn_cache[i].name = NULL;
		spin_unlock_bh(&r->lock);
	}
}

/* The function's result, on top of the stack, as c->verdict; raises nothing (it also runs
 * outside a protected call). */
static void nflua_packet_result(lua_State *L, struct nflua_state *s, struct nflua_packet_call *c)
{
	size_t i;

	if (!c->target) {
		if (lua_isboolean(L, -1) || lua_isnil(L, -1)) {
			c->verdict = lua_toboolean(L, -1);
			return;
		}
		c->verdict = -1;
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		const char *v = lua_tostring(L, -1);

		for (i = 0; i < ARRAY_SIZE(nflua_verdicts); i++) {
			if (strcmp(v, nflua_verdicts[i].name) == 0) {
				c->verdict = nflua_verdicts[i].verdict;
				if (i == 3)
					c->p->verdict_reset = true;
				return;
			}
		}
	}
	s->bad_results++;
	c->p->failed = true;
	pr_notice_ratelimited("%s: %s returned %s %s, not %s\n", s->name, c->function,
			      luaL_typename(L, -1), lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "",
			      c->target ? "a verdict" : "a boolean");
}

/* The call when the function is not in the cache: its lookup may allocate (and so fail). */
static int nflua_packet_fn(lua_State *L, void *ctx)
{
	struct nflua_packet_call *c = ctx;
	struct nflua_state *s = nflua_state_of(L);

	if (nflua_fn_lookup(L, s, c->function) != LUA_TFUNCTION)
		return luaL_error(L, "no function '%s' in state '%s'", c->function, s->name);
	nflua_packet_push(L);
	lua_call(L, 1, 1);
	nflua_packet_result(L, s, c);
	return 0;
}

/*
 * A packet's call. With the function in the cache, the function itself is the protected
 * call (no C function around it): finding it and pushing the packet cannot fail, and neither
 * can reading the result.
 */
static int nflua_state_packet(struct nflua_state *s, struct nflua_packet_call *c)
{
	lua_State *L;
	int base, err;

	/* a per-CPU state: this CPU's replica. Its lock is still taken (execute and send run on
	 * it from process context), but no other CPU's packets take it. Under iptables-nft the
	 * OUTPUT hook may run preemptible: a migration after reading the CPU id makes this call
	 * use another CPU's replica, correct under that replica's lock, so the raw id will do. */
	if (unlikely(s->replicas))
		s = s->replicas[raw_smp_processor_id()];
	spin_lock_bh(&s->lock);
	L = s->L;
	if (L) {
		*s->pkt = c->p;
		base = lua_gettop(L);
		nflua_call_begin(s, L);
		if (nflua_fn_cached(L, s, c->function)) {
			nflua_packet_push(L);
			err = nflua_call_run(s, L, base, 1, 1, NULL);
			if (!err)
				nflua_packet_result(L, s, c);
		} else {
			struct nflua_pcall pc = { .fn = nflua_packet_fn, .ctx = c };

			lua_pushcfunction(L, nflua_pcall_trampoline);
			lua_pushlightuserdata(L, &pc);
			err = nflua_call_run(s, L, base, 1, 0, NULL);
		}
		lua_settop(L, base);
		if (err) {
			c->verdict = c->target ? XT_CONTINUE : -1;
			c->p->failed = true;
		}
		*s->pkt = NULL;
		if (!c->target && c->verdict == 1)
			s->matches++;
	}
	spin_unlock_bh(&s->lock);
	return c->verdict;
}

int nflua_state_match(struct nflua_state *s, const char *function, struct nflua_packet *p)
{
	struct nflua_packet_call c = { function, p, false, -1 };

	return nflua_state_packet(s, &c);
}

unsigned int nflua_state_target(struct nflua_state *s, const char *function,
				struct nflua_packet *p)
{
	struct nflua_packet_call c = { function, p, true, XT_CONTINUE };

	return nflua_state_packet(s, &c);
}

static void nflua_state_set_budget(struct nflua_state *s, u32 budget)
{
	s->budget = budget;
	s->hook_step = min(budget, NFLUA_HOOK_STEP);
}

static int nflua_state_set_limits_one(struct nflua_state *s, size_t maxalloc, u32 budget,
				      struct nflua_reply *reply)
{
	int err = 0;

	spin_lock_bh(&s->lock);
	if (maxalloc && maxalloc < s->mem) {
		if (!reply)
			;	/* restoring the old limits: cannot happen (see below) */
		else if (s->cpu >= 0)
			nflua_reply_error(reply, EBUSY, "cpu %d: state '%s' uses %zu bytes, more than maxalloc %zu",
					  s->cpu, s->name, s->mem, maxalloc);
		else
			nflua_reply_error(reply, EBUSY, "state '%s' uses %zu bytes, more than maxalloc %zu",
					  s->name, s->mem, maxalloc);
		err = EBUSY;
	} else {
		if (maxalloc)
			s->maxalloc = maxalloc;
		if (budget)
			nflua_state_set_budget(s, budget);
	}
	spin_unlock_bh(&s->lock);
	return err;
}

/* Every replica gets the same limits, or none: a replica that uses more than the new maxalloc
 * refuses it, and the replicas changed before it get their old limits back (raising maxalloc
 * again cannot fail). */
int nflua_state_set_limits(struct nflua_state *s, size_t maxalloc, u32 budget,
			   struct nflua_reply *reply)
{
	size_t old_maxalloc;
	u32 old_budget;
	struct nflua_state *r;
	unsigned int cpu, failed;
	int err = 0;

	spin_lock_bh(&s->lock);
	old_maxalloc = s->maxalloc;
	old_budget = s->budget;
	spin_unlock_bh(&s->lock);
	nflua_for_each_replica(s, cpu, r) {
		err = nflua_state_set_limits_one(r, maxalloc, budget, reply);
		if (err)
			break;
	}
	if (!err)
		return 0;
	failed = cpu;
	nflua_for_each_replica(s, cpu, r) {
		if (cpu == failed)
			break;
		nflua_state_set_limits_one(r, old_maxalloc, old_budget, NULL);
	}
	return err;
}

static int nflua_open_fn(lua_State *L, void *ctx)
{
	nflua_openlibs(L);
	return 0;
}

static int nflua_panic(lua_State *L)
{
	/* Unreachable: every entry into Lua is a protected call. */
	pr_crit("unprotected Lua error: %s\n", lua_tostring(L, -1) ?: "?");
	return 0;
}

/* Creation ran out of memory: say which limit. */
static void nflua_create_enomem(struct nflua_state *s, struct nflua_reply *reply, bool libs)
{
	if (s->max_mem_hit)
		nflua_reply_error(reply, ENOMEM,
				  "not enough memory: all states together would pass the module's max_mem=%lu bytes",
				  nflua_max_mem());
	else
		nflua_reply_error(reply, ENOMEM, "maxalloc %zu is too small for %s", s->maxalloc,
				  libs ? "Lua's libraries" : "a Lua state");
}

static struct nflua_state *nflua_state_new_one(const char *name, size_t maxalloc, u32 budget,
					       struct nflua_reply *reply)
{
	struct nflua_state *s;
	lua_State *L;
	int err;

	/* charged to the creator's memory cgroup, as the Lua heap it creates */
	s = nflua_kmalloc(sizeof(*s), GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!s) {
		nflua_reply_error(reply, ENOMEM, "no memory for a state");
		return NULL;
	}
	INIT_LIST_HEAD(&s->node);
	kref_init(&s->kref);
	s->head = s;
	s->cpu = -1;
	spin_lock_init(&s->lock);
	strscpy(s->name, name, sizeof(s->name));
	s->maxalloc = maxalloc;
	nflua_state_set_budget(s, budget);
	nflua_channel_init(&s->chan);

	s->may_sleep = true;
	s->account = true;
	L = lua_newstate(nflua_budget_alloc, s);
	s->may_sleep = false;
	if (!L) {
		nflua_create_enomem(s, reply, false);
		goto err_free_state;
	}
	*(struct nflua_state **)lua_getextraspace(L) = s;
	lua_atpanic(L, nflua_panic);
	s->L = L;
	spin_lock_bh(&s->lock);	/* nothing else can see s yet; pcall expects the lock */
	nflua_state_set_budget(s, NFLUA_BUDGET_MAX);	/* opening the libraries is ours */
	err = nflua_state_pcall(s, nflua_open_fn, NULL, reply);
	nflua_state_set_budget(s, budget);
	if (err) {
		spin_unlock_bh(&s->lock);
		if (reply->err == ENOMEM)
			nflua_create_enomem(s, reply, true);
		goto err_close_lua;
	}
	s->calls = 0;
	s->account = false;
	spin_unlock_bh(&s->lock);
	return s;

err_close_lua:
	lua_close(L);
	s->L = NULL;
err_free_state:
	nflua_kfree(s, sizeof(*s));
	return NULL;
}

/* Frees the replicas other than the head (closed already), and their array. */
static void nflua_state_free_replicas(struct nflua_state *s)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		if (s->replicas[cpu] && s->replicas[cpu] != s)
			nflua_kfree(s->replicas[cpu], sizeof(*s));
	nflua_kfree(s->replicas, nr_cpu_ids * sizeof(*s->replicas));
	s->replicas = NULL;
}

static void nflua_state_close_one(struct nflua_state *s);

/*
 * A per-CPU state: a replica for every possible CPU, made now, so that a CPU brought online
 * later finds its replica ready (no hotplug callback; a CPU going offline leaves its replica
 * idle). Each is a full state with its own VM, maxalloc and budget, all charged to max_mem;
 * they share the head's name and message queue. Fails as a whole, naming the CPU.
 */
static int nflua_state_replicate(struct nflua_state *s, struct nflua_reply *reply)
{
	struct nflua_state **replicas;
	unsigned int cpu, first = cpumask_first(cpu_possible_mask);

	replicas = nflua_kmalloc(nr_cpu_ids * sizeof(*replicas), GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!replicas) {
		nflua_reply_error(reply, ENOMEM, "no memory for a per-CPU state");
		return ENOMEM;
	}
	s->replicas = replicas;
	s->cpu = first;
	replicas[first] = s;
	for_each_possible_cpu(cpu) {
		struct nflua_state *r;

		if (cpu == first)
			continue;
		r = nflua_state_new_one(s->name, s->maxalloc, s->budget, reply);
		if (!r) {
			struct nflua_reply *one = nflua_reply_new();

			if (one) {
				nflua_reply_error_str(one, reply->err, reply->data,
						      reply->nfields ? reply->lens[0] : 0);
				nflua_reply_cpu_error(reply, cpu, one);
				nflua_reply_free(one);
			}
			goto err_close;
		}
		r->head = s;
		r->cpu = cpu;
		replicas[cpu] = r;
		s->nr_replicas++;
		cond_resched();
	}
	s->nr_replicas++;	/* the head's own */
	return 0;

err_close:
	for_each_possible_cpu(cpu)
		if (replicas[cpu] && replicas[cpu] != s)
			nflua_state_close_one(replicas[cpu]);
	nflua_state_free_replicas(s);
	s->cpu = -1;
	return reply->err;
}

struct nflua_state *nflua_state_new(const char *name, size_t maxalloc, u32 budget, bool percpu,
				    struct nflua_reply *reply)
{
	struct nflua_state *s = nflua_state_new_one(name, maxalloc, budget, reply);

	if (s && percpu && nflua_state_replicate(s, reply)) {
		nflua_state_close_one(s);
		nflua_kfree(s, sizeof(*s));
		return NULL;
	}
	return s;
}

void nflua_state_set_name(struct nflua_state *s, const char *name)
{
	struct nflua_state *r;
	unsigned int cpu;

	/* read under the lock (describe, the packet path's messages): written there too */
	nflua_for_each_replica(s, cpu, r) {
		spin_lock_bh(&r->lock);
		strscpy(r->name, name, sizeof(r->name));
		spin_unlock_bh(&r->lock);
	}
}

void nflua_state_close(struct nflua_state *s)
{
	struct nflua_state *r;
	unsigned int cpu;

	nflua_for_each_replica(s, cpu, r)
		if (r != s)
			nflua_state_close_one(r);
	nflua_state_close_one(s);
}

static void nflua_state_close_one(struct nflua_state *s)
{
	lua_State *L;

	nflua_channel_close(&s->chan);
	spin_lock_bh(&s->lock);
	L = s->L;
	s->L = NULL;
	/* finalizers that run while closing get no budget */
	s->exhausted = true;
	spin_unlock_bh(&s->lock);
	if (L) {
		nflua_cstack_enter(&s->cstack);
		s->may_sleep = true;
		lua_close(L);	/* preemptible: nobody else can reach L now */
	}
}

static void nflua_state_release(struct kref *kref)
{
	struct nflua_state *s = container_of(kref, struct nflua_state, kref);

	nflua_state_close(s);
	if (s->replicas)
		nflua_state_free_replicas(s);
	nflua_kfree(s, sizeof(*s));
}

void nflua_state_get(struct nflua_state *s)
{
	kref_get(&s->kref);
}

void nflua_state_put(struct nflua_state *s)
{
	kref_put(&s->kref, nflua_state_release);
}

struct nflua_counts {
	size_t maxalloc, mem, peak;
	u32 budget;
	u64 calls, errors, budget_hits, matches, bad_results, alloc_fails;
	unsigned long stack_peak;
};

/* Adds one replica's counters to c (its limits are the state's: every replica has the same). */
static void nflua_counts_add(struct nflua_state *r, struct nflua_counts *c)
{
	spin_lock_bh(&r->lock);
	c->maxalloc = r->maxalloc;
	c->budget = r->budget;
	c->mem += r->mem;
	c->peak += r->peak;
	c->calls += r->calls;
	c->errors += r->errors;
	c->budget_hits += r->budget_hits;
	c->matches += r->matches;
	c->bad_results += r->bad_results;
	c->alloc_fails += r->alloc_fails;
	c->stack_peak = max(c->stack_peak, r->stack_peak);
	spin_unlock_bh(&r->lock);
}

/* The per-CPU split: " cpus=0,1 cpu_mem=A,B cpu_calls=... " (sep for the spaces). */
static int nflua_describe_split(struct nflua_state *s, char sep, char *buf, size_t size)
{
	static const char * const keys[] = { "cpus", "cpu_mem", "cpu_calls", "cpu_errors",
					      "cpu_budget_hits", "cpu_matches" };
	struct nflua_state *r;
	unsigned int cpu;
	size_t k;
	int n = scnprintf(buf, size, "%cpercpu=%u", sep, s->nr_replicas);

	for (k = 0; k < ARRAY_SIZE(keys); k++) {
		char c = '=';

		n += scnprintf(buf + n, size - n, "%c%s", sep, keys[k]);
		nflua_for_each_replica(s, cpu, r) {
			struct nflua_counts one = { 0 };
			u64 v[] = { cpu, 0, 0, 0, 0, 0 };

			if (k) {
				nflua_counts_add(r, &one);
				v[1] = one.mem;
				v[2] = one.calls;
				v[3] = one.errors;
				v[4] = one.budget_hits;
				v[5] = one.matches;
			}
			n += scnprintf(buf + n, size - n, "%c%llu", c, v[k]);
			c = ',';
		}
	}
	return n;
}

int nflua_state_describe(struct nflua_state *s, bool full, struct nflua_reply *reply)
{
	/* each replica adds at most 6 numbers of up to 20 digits with their commas */
	size_t size = 640 + (size_t)s->nr_replicas * 6 * 21;
	struct nflua_counts c = { 0 };
	struct nflua_state *r;
	unsigned int cpu, queued;
	u64 dropped;
	char sep = full ? '\n' : ' ';
	char name[NFLUA_NAME_MAX + 1];
	char *buf;
	int n, err;

	buf = nflua_kmalloc(size, GFP_KERNEL);
	if (!buf) {
		nflua_reply_error(reply, ENOMEM, "no memory for the reply");
		return reply->err;
	}
	nflua_channel_counts(&s->chan, &queued, &dropped);
	nflua_for_each_replica(s, cpu, r)
		nflua_counts_add(r, &c);
	spin_lock_bh(&s->lock);
	strscpy(name, s->name, sizeof(name));
	spin_unlock_bh(&s->lock);
	n = scnprintf(buf, size,
		      "name=%s%cmaxalloc=%zu%cmem=%zu%cpeak=%zu%cbudget=%u%crules=%u%ccalls=%llu%cerrors=%llu%cbudget_hits=%llu%cmatches=%llu",
		      name, sep, c.maxalloc, sep, c.mem, sep, c.peak, sep, c.budget, sep,
		      atomic_read(&s->rules), sep, c.calls, sep, c.errors, sep, c.budget_hits, sep, c.matches);
	if (full)
		n += scnprintf(buf + n, size - n,
			       "\nbad_results=%llu\nalloc_fails=%llu\nqueued=%u\ndropped=%llu\nstack_peak=%lu",
			       c.bad_results, c.alloc_fails, queued, dropped, c.stack_peak);
	if (s->replicas)
		n += nflua_describe_split(s, sep, buf + n, size - n);
	err = nflua_reply_add(reply, buf, n);
	nflua_kfree(buf, size);
	if (err)
		nflua_reply_error(reply, -err, "reply too large");
	return reply->err;
}
