// SPDX-License-Identifier: GPL-2.0
/* Replies are built while a state's spinlock may be held, so they allocate atomically. */
#include <linux/slab.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include "nflua.h"
#include "reply.h"

struct nflua_reply *nflua_reply_new(void)
{
	return nflua_kmalloc(sizeof(struct nflua_reply), GFP_KERNEL | __GFP_ZERO);
}

void nflua_reply_free(struct nflua_reply *r)
{
	if (!r)
		return;
	nflua_kfree(r->data, r->cap);
	nflua_kfree(r->lens, r->lens_cap * sizeof(*r->lens));
	nflua_kfree(r, sizeof(*r));
}

int nflua_reply_add(struct nflua_reply *r, const void *p, size_t n)
{
	if (r->nfields == NFLUA_REPLY_FIELDS || n > NFLUA_REPLY_MAX - r->len)
		return -E2BIG;
	if (r->nfields == r->lens_cap) {
		u32 lcap = min_t(u32, max_t(u32, r->lens_cap * 2, 16), NFLUA_REPLY_FIELDS);
		u32 *lens = nflua_krealloc(r->lens, r->lens_cap * sizeof(*lens), lcap * sizeof(*lens),
					   GFP_ATOMIC | __GFP_NOWARN);

		if (!lens)
			return -ENOMEM;
		r->lens = lens;
		r->lens_cap = lcap;
	}
	if (r->len + n > r->cap) {
		size_t cap = max3(r->cap * 2, r->len + n, (size_t)256);
		char *data;

		cap = min_t(size_t, cap, NFLUA_REPLY_MAX);
		data = nflua_krealloc(r->data, r->cap, cap, GFP_ATOMIC | __GFP_NOWARN);
		if (!data)
			return -ENOMEM;
		r->data = data;
		r->cap = cap;
	}
	memcpy(r->data + r->len, p, n);
	r->len += n;
	r->lens[r->nfields++] = n;
	return 0;
}

void nflua_reply_error_str(struct nflua_reply *r, int err, const char *msg, size_t len)
{
	r->err = err;
	r->nfields = 0;
	r->len = 0;
	len = min_t(size_t, len, 4096);
	if (nflua_reply_add(r, msg, len))
		r->nfields = 0;	/* no memory even for the message: errno alone */
}

void nflua_reply_error(struct nflua_reply *r, int err, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nflua_reply_error_str(r, err, msg, n);
}
