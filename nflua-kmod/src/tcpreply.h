/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt:tcpreply(msg): answer the sender of a TCP segment with msg as data (ACK|PSH|FIN).
 * The reply is built while the script runs (under the state's lock: allocation only, with
 * GFP_ATOMIC) and sent after the lock is released, because sending runs the OUTPUT hooks,
 * whose rules may call the same state.
 */
#ifndef _NFLUA_TCPREPLY_H
#define _NFLUA_TCPREPLY_H

#include <linux/types.h>

struct nflua_packet;

/* The most data one reply carries: it fits one segment on any IPv6 path (1280 - 40 - 20). */
#define NFLUA_TCPREPLY_MAX	1220

/* Builds the reply for p into p->reply. 0, or a negative errno with *why set to a reason. */
int nflua_tcpreply_build(struct nflua_packet *p, const char *msg, size_t len, const char **why);
/* Sends p's pending reply (if any); frees it instead if the call failed. Process context or
 * softirq, inside the netfilter hook (under RCU), never under a state's lock. */
void nflua_tcpreply_finish(struct nflua_packet *p);

#endif
