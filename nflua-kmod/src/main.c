// SPDX-License-Identifier: GPL-2.0
/* nflua: Lua packet filtering in the kernel. Module init and exit, memory accounting. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>

#include "nflua.h"
#include "control.h"
#include "netns.h"
#include "tcpreply.h"
#include "xt_lua_glue.h"

atomic_long_t nflua_mem_total = ATOMIC_LONG_INIT(0);
atomic_long_t nflua_states_mem = ATOMIC_LONG_INIT(0);

static unsigned long max_mem;
module_param(max_mem, ulong, 0644);
MODULE_PARM_DESC(max_mem,
		 "Bytes all Lua states together may allocate (their heaps and queued messages), "
		 "whatever each state's maxalloc (default, or 0 at load: an eighth of RAM). "
		 "Lowering it frees nothing: allocations fail until the total is below it.");

unsigned long nflua_max_mem(void)
{
	return READ_ONCE(max_mem);
}

bool nflua_mem_charge(size_t n)
{
	if (atomic_long_add_return(n, &nflua_states_mem) > (long)min_t(unsigned long,
								     nflua_max_mem(), LONG_MAX)) {
		atomic_long_sub(n, &nflua_states_mem);
		return false;
	}
	return true;
}

void nflua_mem_uncharge(size_t n)
{
	atomic_long_sub(n, &nflua_states_mem);
}

void *nflua_kmalloc(size_t size, gfp_t gfp)
{
	void *p = kmalloc(size, gfp);

	if (p)
		atomic_long_add(size, &nflua_mem_total);
	return p;
}

void *nflua_krealloc(void *p, size_t old, size_t size, gfp_t gfp)
{
	void *q = krealloc(p, size, gfp);

	if (q)
		atomic_long_add((long)size - (long)old, &nflua_mem_total);
	return q;
}

void nflua_kfree(void *p, size_t size)
{
	if (!p)
		return;
	kfree(p);
	atomic_long_sub(size, &nflua_mem_total);
}

/* Request and reply buffers: process context only, may be large. */
void *nflua_kvmalloc(size_t size)
{
	void *p = kvmalloc(size, GFP_KERNEL_ACCOUNT);

	if (p)
		atomic_long_add(size, &nflua_mem_total);
	return p;
}

void nflua_kvfree(void *p, size_t size)
{
	if (!p)
		return;
	kvfree(p);
	atomic_long_sub(size, &nflua_mem_total);
}

bool nflua_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > NFLUA_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '/')
			return false;
	return true;
}

static int __init nflua_init(void)
{
	int err;

	if (!max_mem)
		max_mem = totalram_pages() / 8 * PAGE_SIZE;
	err = nflua_netns_init();
	if (err)
		return err;
	nflua_tcpreply_init();
	err = nflua_xt_init();
	if (err)
		goto err_tcpreply;
	err = nflua_control_init();
	if (err)
		goto err_xt;
	pr_info("nflua %s (Lua 5.4.7) loaded\n", NFLUA_VERSION);
	return 0;

err_xt:
	nflua_xt_exit();
err_tcpreply:
	nflua_tcpreply_exit();
	nflua_netns_exit();
	return err;
}

static void __exit nflua_exit(void)
{
	long leaked;

	nflua_control_exit();
	nflua_xt_exit();
	nflua_tcpreply_exit();
	nflua_netns_exit();
	leaked = atomic_long_read(&nflua_mem_total);
	if (leaked)
		pr_err("BUG: leaked %ld bytes\n", leaked);
	leaked = atomic_long_read(&nflua_states_mem);
	if (leaked)
		pr_err("BUG: %ld bytes of states still charged\n", leaked);
}

module_init(nflua_init);
module_exit(nflua_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Lua packet filtering: named Lua 5.4 states, /dev/nflua, xtables lua/LUA");
MODULE_VERSION(NFLUA_VERSION);
