/* SPDX-License-Identifier: GPL-2.0 */
/* A reply being built: an errno and fields (docs/protocol.md). Safe in atomic context. */
#ifndef _NFLUA_REPLY_H
#define _NFLUA_REPLY_H

#include <linux/types.h>

/* fields in one reply: list gives one per state (max_states may be raised past a few hundred);
 * the header line ("ERRNO LEN..." at most 11 bytes a field) stays under 100 KiB */
#define NFLUA_REPLY_FIELDS	8192
#define NFLUA_REPLY_MAX		(256U << 10)	/* bytes of fields in one reply */

struct nflua_reply {
	int err;				/* 0, or a positive errno */
	u32 nfields, lens_cap;
	u32 *lens;				/* lens_cap entries, grown as fields come */
	size_t len, cap;
	char *data;				/* the fields, back to back */
};

struct nflua_reply *nflua_reply_new(void);
void nflua_reply_free(struct nflua_reply *r);
int nflua_reply_add(struct nflua_reply *r, const void *p, size_t n);
__printf(3, 4) void nflua_reply_error(struct nflua_reply *r, int err, const char *fmt, ...);
void nflua_reply_error_str(struct nflua_reply *r, int err, const char *msg, size_t len);

#endif
