/* SPDX-License-Identifier: GPL-2.0 */
/* Limits and helpers shared by all of nflua.ko. */
#ifndef _NFLUA_H
#define _NFLUA_H

#include <linux/atomic.h>
#include <linux/types.h>

#define NFLUA_VERSION		"0.1.0"

#define NFLUA_NAME_MAX		63
#define NFLUA_MAXALLOC_MIN	(64UL << 10)
#define NFLUA_MAXALLOC_DEFAULT	(1UL << 20)
#define NFLUA_MAXALLOC_MAX	(256UL << 20)
#define NFLUA_BUDGET_MIN	1000U
#define NFLUA_BUDGET_DEFAULT	100000U
#define NFLUA_BUDGET_MAX	10000000U	/* bounds a call's time: docs/kernel-lua.md */

/* Bytes the module holds (Lua heaps, queues, buffers): must be 0 after every state and
 * descriptor is gone, which module exit checks. */
extern atomic_long_t nflua_mem_total;

/*
 * What all states together hold (Lua heaps, queued messages), against the module parameter
 * max_mem: nflua_mem_charge() is false, and charges nothing, when n more bytes would pass it.
 * Any context.
 */
extern atomic_long_t nflua_states_mem;
unsigned long nflua_max_mem(void);
bool nflua_mem_charge(size_t n);
void nflua_mem_uncharge(size_t n);

void *nflua_kmalloc(size_t size, gfp_t gfp);
void *nflua_krealloc(void *p, size_t old, size_t size, gfp_t gfp);
void nflua_kfree(void *p, size_t size);
void *nflua_kvmalloc(size_t size);
void nflua_kvfree(void *p, size_t size);

bool nflua_name_valid(const char *name, size_t len);

#endif
