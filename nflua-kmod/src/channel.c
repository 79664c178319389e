// SPDX-License-Identifier: GPL-2.0
#include <linux/slab.h>
#include <linux/errno.h>
#include "nflua.h"
#include "channel.h"
#include "reply.h"

DECLARE_WAIT_QUEUE_HEAD(nflua_channel_wq);

struct nflua_msg {
	struct list_head node;
	size_t len;
	char data[];
};

void nflua_channel_init(struct nflua_channel *ch)
{
	spin_lock_init(&ch->lock);
	INIT_LIST_HEAD(&ch->msgs);
}

static void nflua_msg_free(struct nflua_msg *m)
{
	nflua_mem_uncharge(m->len);
	nflua_kfree(m, sizeof(*m) + m->len);
}

void nflua_channel_close(struct nflua_channel *ch)
{
	struct nflua_msg *m, *tmp;
	LIST_HEAD(dead);

	spin_lock_bh(&ch->lock);
	ch->closed = true;
	list_splice_init(&ch->msgs, &dead);
	ch->count = 0;
	ch->bytes = 0;
	spin_unlock_bh(&ch->lock);
	list_for_each_entry_safe(m, tmp, &dead, node)
		nflua_msg_free(m);
	wake_up_interruptible_all(&nflua_channel_wq);
}

/* Whether a message of len bytes fits now. Caller holds ch->lock. */
static bool nflua_channel_room(struct nflua_channel *ch, size_t len)
{
	return !ch->closed && ch->count < NFLUA_CHANNEL_MSGS && len <= NFLUA_CHANNEL_BYTES - ch->bytes;
}

/*
 * Called from Lua, in any context. The limits are checked before allocating (a message may be
 * as large as a string, megabytes) and again when queueing; the message's bytes count against
 * the module's max_mem like the states' Lua memory.
 */
bool nflua_channel_push(struct nflua_channel *ch, const void *data, size_t len)
{
	struct nflua_msg *m = NULL;
	unsigned long flags;
	bool queued, room;

	spin_lock_irqsave(&ch->lock, flags);
	room = nflua_channel_room(ch, len);
	if (!room)
		ch->dropped++;
	spin_unlock_irqrestore(&ch->lock, flags);
	if (!room)
		return false;
	if (nflua_mem_charge(len)) {
		m = nflua_kmalloc(sizeof(*m) + len, GFP_ATOMIC | __GFP_NOWARN);
		if (!m)
			nflua_mem_uncharge(len);
	}
	spin_lock_irqsave(&ch->lock, flags);
	queued = m && nflua_channel_room(ch, len);
	if (queued) {
		m->len = len;
		memcpy(m->data, data, len);
		list_add_tail(&m->node, &ch->msgs);
		ch->count++;
		ch->bytes += len;
	} else {
		ch->dropped++;
	}
	spin_unlock_irqrestore(&ch->lock, flags);
	if (queued) {
		if (wq_has_sleeper(&nflua_channel_wq))
			wake_up_interruptible(&nflua_channel_wq);
	} else if (m) {
		m->len = len;
		nflua_msg_free(m);
	}
	return queued;
}

bool nflua_channel_ready(struct nflua_channel *ch)
{
	unsigned long flags;
	bool ready;

	spin_lock_irqsave(&ch->lock, flags);
	ready = ch->closed || ch->count > 0;
	spin_unlock_irqrestore(&ch->lock, flags);
	return ready;
}

int nflua_channel_pop(struct nflua_channel *ch, struct nflua_reply *reply)
{
	struct nflua_msg *m;
	size_t bytes = 0;
	int n = 0;

	for (;;) {
		spin_lock_bh(&ch->lock);
		m = list_first_entry_or_null(&ch->msgs, struct nflua_msg, node);
		if (m && n > 0 && (n == NFLUA_RECEIVE_MSGS || bytes + m->len > NFLUA_RECEIVE_BYTES))
			m = NULL;
		if (m) {
			list_del(&m->node);
			ch->count--;
			ch->bytes -= m->len;
		} else if (n == 0 && ch->closed) {
			spin_unlock_bh(&ch->lock);
			nflua_reply_error(reply, ENOENT, "state was destroyed");
			return ENOENT;
		}
		spin_unlock_bh(&ch->lock);
		if (!m)
			return 0;
		/* a message never exceeds a reply (NFLUA_CHANNEL_BYTES == NFLUA_REPLY_MAX) */
		if (nflua_reply_add(reply, m->data, m->len)) {
			nflua_msg_free(m);
			nflua_reply_error(reply, ENOMEM, "no memory for the reply");
			return ENOMEM;
		}
		bytes += m->len;
		n++;
		nflua_msg_free(m);
	}
}

void nflua_channel_counts(struct nflua_channel *ch, unsigned int *queued, u64 *dropped)
{
	spin_lock_bh(&ch->lock);
	*queued = ch->count;
	*dropped = ch->dropped;
	spin_unlock_bh(&ch->lock);
}
