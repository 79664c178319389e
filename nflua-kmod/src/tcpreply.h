/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt:tcpreply(msg): answer the sender of a TCP segment with msg as data (ACK|PSH|FIN).
 * The reply is built while the script runs (under the state's lock: allocation only, with
 * GFP_ATOMIC), routed and queued after the lock is released, and sent by a per-CPU tasklet
 * once the table traversal that called Lua is over (tcpreply.c says why).
 */
#ifndef _NFLUA_TCPREPLY_H
#define _NFLUA_TCPREPLY_H

#include <linux/types.h>

struct nflua_packet;

/* The most data one reply carries: it fits one segment on any IPv6 path (1280 - 40 - 20). */
#define NFLUA_TCPREPLY_MAX	1220

/* Replies queued per CPU and not sent yet: a call that would exceed it is refused. */
#define NFLUA_TCPREPLY_QUEUE	128

/* Builds the reply for p into p->reply. 0, or a negative errno with *why set to a reason. */
int nflua_tcpreply_build(struct nflua_packet *p, const char *msg, size_t len, const char **why);
/* Routes p's pending reply (if any) and queues it to be sent after the traversal; frees it
 * instead if the call failed. Process context or softirq, inside the netfilter hook (under
 * RCU), never under a state's lock. */
void nflua_tcpreply_finish(struct nflua_packet *p);
void nflua_tcpreply_init(void);
void nflua_tcpreply_exit(void);

#endif
