/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One named Lua state: its Lua VM, memory cap, instruction budget, counters and message queue.
 * All use of the VM happens under 'lock' (spin_lock_bh from process context, spin_lock from the
 * packet path), and always through nflua_state_pcall(), so no Lua error is ever unprotected.
 */
#ifndef _NFLUA_STATE_H
#define _NFLUA_STATE_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include "nflua.h"
#include "channel.h"
#include "nflua_libc.h"

struct lua_State;
struct net;
struct nflua_reply;

struct nflua_state {
	struct nflua_cstack cstack;	/* first: Lua's core finds it through lua_getextraspace */
	struct list_head node;		/* in the netns registry, under its mutex */
	struct kref kref;
	spinlock_t lock;		/* serializes everything below and all use of L */
	/* a per-CPU state (created with percpu=1): one replica per possible CPU, indexed by CPU
	 * id, the head itself being the first CPU's; NULL for a normal state. Set at creation,
	 * before anyone sees the state, and never changed: read without a lock. */
	struct nflua_state **replicas;
	struct nflua_state *head;	/* the named state: itself, or the head of this replica */
	int cpu;			/* the CPU a replica serves; -1 in a normal state */
	unsigned int nr_replicas;	/* in the head: possible CPUs; 0 in a normal state */
	struct lua_State *L;
	char name[NFLUA_NAME_MAX + 1];
	size_t maxalloc;
	u32 budget;
	u32 hook_step;			/* instructions between two count hooks */
	u32 used;			/* instructions run by the current call */
	bool exhausted;			/* the current call ran out of budget */
	unsigned long deadline;		/* jiffies: the current call's backstop (state.c) */
	struct lua_State *running;	/* thread of the current call running now, or NULL */
	size_t blocks;			/* blocks Lua holds: what a full collection visits */
	size_t mem, peak;
	bool may_sleep;			/* Lua runs preemptible (creation, closing) */
	bool account;			/* a control request runs Lua: charge its memory cgroup */
	bool max_mem_hit;		/* the module's max_mem refused an allocation */
	unsigned long stack_peak;	/* deepest C stack use by Lua measured, bytes */
	u64 calls, errors, budget_hits, alloc_fails;
	u64 matches, bad_results;	/* packet path: true results, results of the wrong type */
	struct nflua_packet **pkt;	/* binding of the state's packet object */
	/* where the rules' functions sit in the globals table (state.c, nflua_fn_cache) */
	struct nflua_fn_cache {
		const char *name;	/* a rule's function name (its address; the text is key's) */
		const void *key;	/* the interned name (TString), anchored in the registry */
		const void *nodes;	/* the globals table's node array when found */
		const void *slot;	/* the name's node in it */
		u8 lsize;		/* the array's log2 size then */
	} fn_cache[4];
	unsigned int fn_cache_next;	/* the entry a miss replaces */
	atomic_t rules;			/* iptables rules using this state; raised under the
					 * registry mutex, so destroy sees every new rule */
	struct nflua_channel chan;	/* what scripts send to user space */
};

/* Runs fn(L, ctx) as a protected call with the state's budget: results and errors go to
 * 'reply'. Caller holds s->lock. Returns the reply's errno (0 on success). */
typedef int (*nflua_cfn)(struct lua_State *L, void *ctx);
int nflua_state_pcall(struct nflua_state *s, nflua_cfn fn, void *ctx, struct nflua_reply *reply);

/* percpu: one replica per possible CPU (docs/kernel-lua.md, "Per-CPU states") */
struct nflua_state *nflua_state_new(const char *name, size_t maxalloc, u32 budget, bool percpu,
				    struct nflua_reply *reply);
/* Renames the state and all its replicas (the registry's mutex held). */
void nflua_state_set_name(struct nflua_state *s, const char *name);
void nflua_state_get(struct nflua_state *s);
void nflua_state_put(struct nflua_state *s);
/* Closes the Lua VM now (state unlinked, no rules left); the struct lives until the last put. */
void nflua_state_close(struct nflua_state *s);
int nflua_state_set_limits(struct nflua_state *s, size_t maxalloc, u32 budget,
			   struct nflua_reply *reply);

/* On a per-CPU state both run on every replica in CPU order: 'split' frames the reply by
 * replica (docs/protocol.md), else the results follow each other. */
int nflua_state_execute(struct nflua_state *s, const char *chunkname, const char *chunk,
			size_t len, bool split, struct nflua_reply *reply);
int nflua_state_send(struct nflua_state *s, const char *data, size_t len, bool split,
		     struct nflua_reply *reply);
struct nflua_packet;
/* Match: 1 when FUNCTION(pkt) returned true, 0 for false or nil, -1 for an error or a result
 * of another type (which never match, not even inverted). */
int nflua_state_match(struct nflua_state *s, const char *function, struct nflua_packet *p);
/* Target: the verdict FUNCTION(pkt) returned (docs/lua-api.md), XT_CONTINUE on any error. */
unsigned int nflua_state_target(struct nflua_state *s, const char *function,
				struct nflua_packet *p);
/* A rule that calls FUNCTION goes away: forget where its copy of the name led (the address
 * may be another rule's later). */
void nflua_state_forget_function(struct nflua_state *s, const char *function);

/* budget.c: the current call's accounting across threads and library work */
struct nflua_state *nflua_budget_enter(struct nflua_state *s);
void nflua_budget_leave(struct nflua_state *s, struct nflua_state *old);
bool nflua_budget_spent(struct nflua_state *s, size_t more);
void nflua_budget_add(struct nflua_state *s, size_t n);
/* what a full collection of the state's heap costs, in instructions */
static inline size_t nflua_gc_work(struct nflua_state *s)
{
	return s->mem / NFLUA_WORK_GC + s->blocks * NFLUA_WORK_BLOCK;
}

/* key=value description; 'full' adds every counter, one per line */
int nflua_state_describe(struct nflua_state *s, bool full, struct nflua_reply *reply);

static inline struct nflua_state *nflua_state_of(struct lua_State *L)
{
	return *(struct nflua_state **)((char *)L - sizeof(void *));	/* lua_getextraspace */
}

#endif
