/* SPDX-License-Identifier: GPL-2.0 */
/* Messages that scripts queue with nflua.send() until user space reads them with 'receive'. */
#ifndef _NFLUA_CHANNEL_H
#define _NFLUA_CHANNEL_H

#include <linux/list.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#define NFLUA_CHANNEL_MSGS	256
#define NFLUA_CHANNEL_BYTES	(256U << 10)
#define NFLUA_RECEIVE_MSGS	64
#define NFLUA_RECEIVE_BYTES	(64U << 10)

struct nflua_reply;

struct nflua_channel {
	spinlock_t lock;
	struct list_head msgs;
	unsigned int count;
	size_t bytes;
	u64 dropped;
	bool closed;			/* the state was destroyed */
};

/*
 * Where 'receive' waits: one queue for the module, woken by every message and every closed
 * channel (waiters re-check their own state). A waiter or a poll/epoll entry on a queue inside
 * the state would be left on freed memory when the state goes; the module outlives every
 * open descriptor.
 */
extern wait_queue_head_t nflua_channel_wq;

void nflua_channel_init(struct nflua_channel *ch);
void nflua_channel_close(struct nflua_channel *ch);	/* wakes readers, frees messages */
bool nflua_channel_push(struct nflua_channel *ch, const void *data, size_t len);
/* true when a 'receive' can be answered: a message is queued or the channel is closed */
bool nflua_channel_ready(struct nflua_channel *ch);
/* Moves queued messages into reply (at least one if any); ENOENT if closed and empty. */
int nflua_channel_pop(struct nflua_channel *ch, struct nflua_reply *reply);
void nflua_channel_counts(struct nflua_channel *ch, unsigned int *queued, u64 *dropped);

#endif
