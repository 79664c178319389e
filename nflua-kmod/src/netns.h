/* SPDX-License-Identifier: GPL-2.0 */
/* The states of each network namespace, by name. */
#ifndef _NFLUA_NETNS_H
#define _NFLUA_NETNS_H

#include <linux/types.h>

struct net;
struct nflua_reply;
struct nflua_state;

int nflua_netns_init(void);
void nflua_netns_exit(void);

/* Returns the state with a reference held, or NULL (and ENOENT in reply). */
struct nflua_state *nflua_netns_find(struct net *net, const char *name, struct nflua_reply *reply);
int nflua_netns_create(struct net *net, const char *name, size_t maxalloc, u32 budget,
		       bool percpu, struct nflua_reply *reply);
int nflua_netns_destroy(struct net *net, const char *name, struct nflua_reply *reply);
/* FROM takes the name TO; a state already named TO takes FROM (exchange). ENOENT, EINVAL. */
int nflua_netns_rename(struct net *net, const char *from, const char *to, struct nflua_reply *reply);
int nflua_netns_list(struct net *net, struct nflua_reply *reply);
int nflua_netns_describe(struct net *net, struct nflua_reply *reply);
/* A rule's reference: counted in the state's 'rules' (destroy is refused while any). */
struct nflua_state *nflua_netns_rule_get(struct net *net, const char *name);
void nflua_netns_rule_put(struct nflua_state *s);

#endif
