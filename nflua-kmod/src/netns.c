// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace registry of states. Creating, destroying, renaming and listing take the
 * namespace's mutex; a found state is returned with a reference, so the mutex is not held
 * while its Lua code runs. A namespace that goes away closes all its states.
 */
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "nflua.h"
#include "netns.h"
#include "reply.h"
#include "state.h"

struct nflua_net {
	struct mutex lock;
	struct list_head states;	/* sorted by name */
	unsigned int count;
};

static unsigned int nflua_net_id __read_mostly;
static atomic_t nflua_all_states = ATOMIC_INIT(0);

static unsigned int max_states = 64;
module_param(max_states, uint, 0644);
MODULE_PARM_DESC(max_states, "Most states one network namespace may hold (default 64)");

static struct nflua_net *nflua_net(struct net *net)
{
	return net_generic(net, nflua_net_id);
}

static struct nflua_state *nflua_lookup(struct nflua_net *nn, const char *name)
{
	struct nflua_state *s;

	list_for_each_entry(s, &nn->states, node)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct nflua_state *nflua_netns_find(struct net *net, const char *name, struct nflua_reply *reply)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *s;

	mutex_lock(&nn->lock);
	s = nflua_lookup(nn, name);
	if (s)
		nflua_state_get(s);
	mutex_unlock(&nn->lock);
	if (!s)
		nflua_reply_error(reply, ENOENT, "no state named '%s'", name);
	return s;
}

struct nflua_state *nflua_netns_rule_get(struct net *net, const char *name)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *s;

	mutex_lock(&nn->lock);
	s = nflua_lookup(nn, name);
	if (s) {
		nflua_state_get(s);
		atomic_inc(&s->rules);
	}
	mutex_unlock(&nn->lock);
	return s;
}

/* Needs nothing of the namespace: rules may go after the namespace's states were closed. */
void nflua_netns_rule_put(struct nflua_state *s)
{
	atomic_dec(&s->rules);
	nflua_state_put(s);
}

/* Puts s into the registry's list at the place of its name (the list is sorted by name). */
static void nflua_link_sorted(struct nflua_net *nn, struct nflua_state *s)
{
	struct nflua_state *pos;

	list_for_each_entry(pos, &nn->states, node)
		if (strcmp(pos->name, s->name) > 0)
			break;
	list_add_tail(&s->node, &pos->node);
}

int nflua_netns_create(struct net *net, const char *name, size_t maxalloc, u32 budget,
		       bool percpu, struct nflua_reply *reply)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *s;
	int err = 0;

	mutex_lock(&nn->lock);
	if (nflua_lookup(nn, name)) {
		nflua_reply_error(reply, EEXIST, "a state named '%s' exists", name);
		err = EEXIST;
		goto out;
	}
	if (nn->count >= READ_ONCE(max_states)) {
		nflua_reply_error(reply, ENOSPC,
				  "this network namespace has %u states, the most max_states=%u allows",
				  nn->count, READ_ONCE(max_states));
		err = ENOSPC;
		goto out;
	}
	s = nflua_state_new(name, maxalloc, budget, percpu, reply);
	if (!s) {
		err = reply->err;
		goto out;
	}
	nflua_link_sorted(nn, s);
	nn->count++;
	atomic_inc(&nflua_all_states);
out:
	mutex_unlock(&nn->lock);
	return err;
}

/*
 * FROM takes the name TO; a state named TO takes the name FROM (an exchange). Both happen under
 * the registry mutex, so no lookup (create, destroy, a rule's checkentry) sees either name
 * missing or both states under one name. Rules keep the state object they hold.
 */
int nflua_netns_rename(struct net *net, const char *from, const char *to, struct nflua_reply *reply)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *a, *b;

	if (strcmp(from, to) == 0) {
		nflua_reply_error(reply, EINVAL, "rename '%s' onto itself", from);
		return EINVAL;
	}
	mutex_lock(&nn->lock);
	a = nflua_lookup(nn, from);
	if (!a) {
		mutex_unlock(&nn->lock);
		nflua_reply_error(reply, ENOENT, "no state named '%s'", from);
		return ENOENT;
	}
	b = nflua_lookup(nn, to);
	list_del_init(&a->node);
	if (b) {
		list_del_init(&b->node);
		nflua_state_set_name(b, from);
		nflua_link_sorted(nn, b);
	}
	nflua_state_set_name(a, to);
	nflua_link_sorted(nn, a);
	mutex_unlock(&nn->lock);
	return 0;
}

static void nflua_unlink(struct nflua_net *nn, struct nflua_state *s)
{
	list_del_init(&s->node);
	nn->count--;
	atomic_dec(&nflua_all_states);
}

int nflua_netns_destroy(struct net *net, const char *name, struct nflua_reply *reply)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *s;
	int rules;

	mutex_lock(&nn->lock);
	s = nflua_lookup(nn, name);
	if (!s) {
		mutex_unlock(&nn->lock);
		nflua_reply_error(reply, ENOENT, "no state named '%s'", name);
		return ENOENT;
	}
	rules = atomic_read(&s->rules);
	if (rules) {
		mutex_unlock(&nn->lock);
		nflua_reply_error(reply, EBUSY, "state '%s' is used by %d iptables rule%s: delete them first",
				  name, rules, rules == 1 ? "" : "s");
		return EBUSY;
	}
	nflua_unlink(nn, s);
	mutex_unlock(&nn->lock);
	/* Close now, even if a descriptor waiting in 'receive' still holds a reference. */
	nflua_state_close(s);
	nflua_state_put(s);
	return 0;
}

int nflua_netns_list(struct net *net, struct nflua_reply *reply)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *s;
	int err = 0;

	mutex_lock(&nn->lock);
	list_for_each_entry(s, &nn->states, node) {
		err = nflua_state_describe(s, false, reply);
		if (err)
			break;
	}
	mutex_unlock(&nn->lock);
	return err;
}

int nflua_netns_describe(struct net *net, struct nflua_reply *reply)
{
	struct nflua_net *nn = nflua_net(net);
	char buf[256];
	int n;

	mutex_lock(&nn->lock);
	n = scnprintf(buf, sizeof(buf),
		      "version=%s\nstates=%u\nall_states=%d\nall_mem=%ld\nstates_mem=%ld\nmax_mem=%lu\nmax_states=%u",
		      NFLUA_VERSION, nn->count, atomic_read(&nflua_all_states),
		      atomic_long_read(&nflua_mem_total), atomic_long_read(&nflua_states_mem),
		      nflua_max_mem(), READ_ONCE(max_states));
	mutex_unlock(&nn->lock);
	if (nflua_reply_add(reply, buf, n))
		nflua_reply_error(reply, ENOMEM, "no memory for the reply");
	return reply->err;
}

static int __net_init nflua_net_init(struct net *net)
{
	struct nflua_net *nn = nflua_net(net);

	mutex_init(&nn->lock);
	INIT_LIST_HEAD(&nn->states);
	return 0;
}

static void __net_exit nflua_net_exit(struct net *net)
{
	struct nflua_net *nn = nflua_net(net);
	struct nflua_state *s, *tmp;

	mutex_lock(&nn->lock);
	list_for_each_entry_safe(s, tmp, &nn->states, node) {
		nflua_unlink(nn, s);
		nflua_state_close(s);
		nflua_state_put(s);
	}
	mutex_unlock(&nn->lock);
}

static struct pernet_operations nflua_net_ops = {
	.init = nflua_net_init,
	.exit = nflua_net_exit,
	.id = &nflua_net_id,
	.size = sizeof(struct nflua_net),
};

int nflua_netns_init(void)
{
	return register_pernet_subsys(&nflua_net_ops);
}

void nflua_netns_exit(void)
{
	unregister_pernet_subsys(&nflua_net_ops);
}
