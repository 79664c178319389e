// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/nflua: framed requests in, framed replies out (docs/protocol.md). Requests are parsed as
 * a byte stream per descriptor; one request is in flight at a time.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "nflua.h"
#include "channel.h"
#include "control.h"
#include "netns.h"
#include "reply.h"
#include "state.h"

#define NFLUA_HDR_MAX		255
#define NFLUA_REQ_FIELDS	8
#define NFLUA_REQ_MAX		(64U << 20)

static bool allow_userns;
module_param(allow_userns, bool, 0444);
MODULE_PARM_DESC(allow_userns,
		 "Let CAP_NET_ADMIN in a non-initial user namespace use /dev/nflua (default: no). "
		 "Any user can create a user namespace: enabling this exposes the in-kernel Lua VM "
		 "to unprivileged users. Enable only for trusted containers.");

struct nflua_request {
	char op[16];
	u32 nfields;
	u32 lens[NFLUA_REQ_FIELDS];
	const char *fields[NFLUA_REQ_FIELDS];
	char *buf;			/* the fields, back to back */
	size_t len;			/* bytes of fields (buf holds at least 1) */
};

struct nflua_client {
	struct mutex lock;
	struct net *net;
	/* the request being received */
	char hdr[NFLUA_HDR_MAX + 1];
	size_t hdr_len;
	bool in_body;			/* header parsed, receiving fields */
	struct nflua_request req;
	size_t got;
	/* the reply being read */
	char *out;
	size_t out_len, out_end, out_off;	/* allocated, used, read */
	/* a 'receive' waiting for messages */
	struct nflua_state *waiting;
	bool nonblock;
};

static bool nflua_permitted(struct net *net)
{
	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return false;
	return allow_userns || capable(CAP_NET_ADMIN);
}

static void nflua_request_reset(struct nflua_client *c)
{
	nflua_kvfree(c->req.buf, c->req.len ?: 1);
	memset(&c->req, 0, sizeof(c->req));
	c->hdr_len = 0;
	c->in_body = false;
	c->got = 0;
}

/*
 * Replies carry errno numbers as docs/protocol.md lists them: Linux's generic numbering (x86,
 * arm, arm64, ...). mips (also alpha, sparc, parisc) numbers some differently in the kernel;
 * those nflua uses are translated so that a client reads the same number from every router.
 */
static int nflua_wire_errno(int err)
{
	switch (err) {
	case EOPNOTSUPP:	return 95;
	case EMSGSIZE:		return 90;
	case ENOSYS:		return 38;
	case EPROTO:		return 71;
	case ETIME:		return 62;
	default:		return err;	/* 1-34: the same on every arch */
	}
}

/* Serializes a reply into the descriptor's output: "ERRNO LEN...\n" then the fields. */
static int nflua_queue_reply(struct nflua_client *c, struct nflua_reply *r)
{
	size_t hdr = 12 + r->nfields * 11, n;	/* "-2147483648", " 4294967295" */
	u32 i;

	c->out = nflua_kvmalloc(hdr + r->len);
	if (!c->out)
		return -ENOMEM;
	n = scnprintf(c->out, hdr, "%d", nflua_wire_errno(r->err));
	for (i = 0; i < r->nfields; i++)
		n += scnprintf(c->out + n, hdr - n, " %u", r->lens[i]);
	c->out[n++] = '\n';
	if (r->len)
		memcpy(c->out + n, r->data, r->len);
	c->out_len = hdr + r->len;	/* what was allocated, for accounting */
	c->out_end = n + r->len;
	c->out_off = 0;
	return 0;
}

static int nflua_queue_error(struct nflua_client *c, int err, const char *fmt, ...)
{
	struct nflua_reply *r = nflua_reply_new();
	char msg[160];
	va_list ap;
	int n, ret;

	if (!r)
		return -ENOMEM;
	va_start(ap, fmt);
	n = vscnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nflua_reply_error_str(r, err, msg, n);
	ret = nflua_queue_reply(c, r);
	nflua_reply_free(r);
	return ret;
}

/* ---- options and names ---- */

static int nflua_field_str(const struct nflua_request *q, u32 i, char *buf, size_t size)
{
	if (q->lens[i] >= size || memchr(q->fields[i], '\0', q->lens[i]))
		return -EINVAL;
	memcpy(buf, q->fields[i], q->lens[i]);
	buf[q->lens[i]] = '\0';
	return 0;
}

static int nflua_name_arg(const struct nflua_request *q, char *name, struct nflua_reply *r)
{
	if (q->nfields < 1 || !nflua_name_valid(q->fields[0], q->lens[0]) ||
	    nflua_field_str(q, 0, name, NFLUA_NAME_MAX + 1)) {
		nflua_reply_error(r, EINVAL,
				  "invalid state name: 1-%d printable ASCII characters, no space or '/'",
				  NFLUA_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}

struct nflua_limits {
	u64 maxalloc, budget;
	bool percpu_ok;		/* create: percpu=0|1 is an option too */
	bool percpu;
};

/* Fields from 'first' on: maxalloc=N, budget=N (decimal), and percpu=0|1 if l->percpu_ok. */
static int nflua_limits_args(const struct nflua_request *q, u32 first, struct nflua_limits *l,
			     struct nflua_reply *r)
{
	u32 i;

	for (i = first; i < q->nfields; i++) {
		char opt[40], *eq;
		u64 v;

		if (nflua_field_str(q, i, opt, sizeof(opt)) || !(eq = strchr(opt, '=')) ||
		    kstrtou64(eq + 1, 10, &v))
			goto bad;
		*eq = '\0';
		if (strcmp(opt, "maxalloc") == 0) {
			if (v < NFLUA_MAXALLOC_MIN || v > NFLUA_MAXALLOC_MAX) {
				nflua_reply_error(r, EINVAL, "maxalloc %llu out of range %lu-%lu bytes",
						  v, NFLUA_MAXALLOC_MIN, NFLUA_MAXALLOC_MAX);
				return -EINVAL;
			}
			l->maxalloc = v;
		} else if (strcmp(opt, "budget") == 0) {
			if (v < NFLUA_BUDGET_MIN || v > NFLUA_BUDGET_MAX) {
				nflua_reply_error(r, EINVAL, "budget %llu out of range %u-%u instructions",
						  v, NFLUA_BUDGET_MIN, NFLUA_BUDGET_MAX);
				return -EINVAL;
			}
			l->budget = v;
		} else if (strcmp(opt, "percpu") == 0 && l->percpu_ok && v <= 1) {
			l->percpu = v;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	nflua_reply_error(r, EINVAL, "invalid option '%.*s' (expected maxalloc=BYTES, budget=N%s)",
			  (int)min_t(u32, q->lens[i], 40), q->fields[i], l->percpu_ok ? " or percpu=0|1" : "");
	return -EINVAL;
}

/* ---- operations ---- */

static int nflua_op_version(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	static const char v[] = "nflua " NFLUA_VERSION " lua 5.4.7";

	return nflua_reply_add(r, v, sizeof(v) - 1);
}

static int nflua_op_create(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	struct nflua_limits l = { NFLUA_MAXALLOC_DEFAULT, NFLUA_BUDGET_DEFAULT, true };
	char name[NFLUA_NAME_MAX + 1];

	if (nflua_name_arg(q, name, r) || nflua_limits_args(q, 1, &l, r))
		return 0;
	nflua_netns_create(c->net, name, l.maxalloc, l.budget, l.percpu, r);
	return 0;
}

static int nflua_op_destroy(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	char name[NFLUA_NAME_MAX + 1];

	if (!nflua_name_arg(q, name, r))
		nflua_netns_destroy(c->net, name, r);
	return 0;
}

static int nflua_op_rename(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	struct nflua_request to = { .nfields = 1, .lens = { q->lens[1] }, .fields = { q->fields[1] } };
	char from_name[NFLUA_NAME_MAX + 1], to_name[NFLUA_NAME_MAX + 1];

	if (!nflua_name_arg(q, from_name, r) && !nflua_name_arg(&to, to_name, r))
		nflua_netns_rename(c->net, from_name, to_name, r);
	return 0;
}

static int nflua_op_list(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	nflua_netns_list(c->net, r);
	return 0;
}

static int nflua_op_stats(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	char name[NFLUA_NAME_MAX + 1];
	struct nflua_state *s;

	if (q->nfields == 0) {
		nflua_netns_describe(c->net, r);
		return 0;
	}
	if (nflua_name_arg(q, name, r))
		return 0;
	s = nflua_netns_find(c->net, name, r);
	if (s) {
		nflua_state_describe(s, true, r);
		nflua_state_put(s);
	}
	return 0;
}

static int nflua_op_set(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	struct nflua_limits l = { 0, 0 };
	char name[NFLUA_NAME_MAX + 1];
	struct nflua_state *s;

	if (nflua_name_arg(q, name, r) || nflua_limits_args(q, 1, &l, r))
		return 0;
	s = nflua_netns_find(c->net, name, r);
	if (s) {
		nflua_state_set_limits(s, l.maxalloc, l.budget, r);
		nflua_state_put(s);
	}
	return 0;
}

/*
 * The optional last field of execute and send: "split=1" frames the reply by replica ("cpu=N
 * results=K" before each replica's results, "cpu=all" for a normal state). Without it a
 * per-CPU state's results follow each other in CPU order: what clients written before per-CPU
 * states expect (a list of values).
 */
static int nflua_split_arg(const struct nflua_request *q, u32 i, bool *split, struct nflua_reply *r)
{
	*split = false;
	if (q->nfields <= i)
		return 0;
	if (q->lens[i] == 7 && memcmp(q->fields[i], "split=1", 7) == 0) {
		*split = true;
		return 0;
	}
	if (q->lens[i] == 7 && memcmp(q->fields[i], "split=0", 7) == 0)
		return 0;
	nflua_reply_error(r, EINVAL, "invalid option '%.*s' (expected split=0 or split=1)",
			  (int)min_t(u32, q->lens[i], 40), q->fields[i]);
	return -EINVAL;
}

static int nflua_op_execute(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	char name[NFLUA_NAME_MAX + 1], chunkname[NFLUA_NAME_MAX + 1];
	struct nflua_state *s;
	char *chunk = (char *)q->fields[2];
	bool split;

	if (nflua_name_arg(q, name, r) || nflua_split_arg(q, 3, &split, r))
		return 0;
	if (nflua_field_str(q, 1, chunkname, sizeof(chunkname))) {
		nflua_reply_error(r, EINVAL, "invalid chunk name: at most %d bytes, no NUL",
				  NFLUA_NAME_MAX);
		return 0;
	}
	s = nflua_netns_find(c->net, name, r);
	if (s) {
		nflua_state_execute(s, chunkname, chunk, q->lens[2], split, r);
		nflua_state_put(s);
	}
	return 0;
}

static int nflua_op_send(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	char name[NFLUA_NAME_MAX + 1];
	struct nflua_state *s;
	bool split;

	if (nflua_name_arg(q, name, r) || nflua_split_arg(q, 2, &split, r))
		return 0;
	s = nflua_netns_find(c->net, name, r);
	if (s) {
		nflua_state_send(s, q->fields[1], q->lens[1], split, r);
		nflua_state_put(s);
	}
	return 0;
}

/* Answers at once when messages are queued; otherwise the reply waits for read() or poll(). */
static int nflua_op_receive(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r)
{
	char name[NFLUA_NAME_MAX + 1];
	struct nflua_state *s;

	if (nflua_name_arg(q, name, r))
		return 0;
	s = nflua_netns_find(c->net, name, r);
	if (!s)
		return 0;
	/* pop, not "ready then pop": another receiver may empty the queue in between */
	if (nflua_channel_pop(&s->chan, r) || r->nfields) {
		nflua_state_put(s);
	} else if (c->nonblock) {
		nflua_reply_error(r, EAGAIN, "no message queued for state '%s'", name);
		nflua_state_put(s);
	} else {
		c->waiting = s;	/* keeps the reference */
		return 1;	/* no reply yet */
	}
	return 0;
}

struct nflua_op {
	const char *name;
	u32 min_fields, max_fields;
	/* returns 1 when the reply is deferred, 0 when 'r' holds it, or -errno */
	int (*run)(struct nflua_client *c, struct nflua_request *q, struct nflua_reply *r);
};

static const struct nflua_op nflua_ops[] = {
	{ "version", 0, 0, nflua_op_version },
	{ "create", 1, 4, nflua_op_create },	/* name, maxalloc=, budget=, percpu= */
	{ "destroy", 1, 1, nflua_op_destroy },
	{ "rename", 2, 2, nflua_op_rename },
	{ "list", 0, 0, nflua_op_list },
	{ "stats", 0, 1, nflua_op_stats },
	{ "set", 1, 3, nflua_op_set },
	{ "execute", 3, 4, nflua_op_execute },
	{ "send", 2, 3, nflua_op_send },
	{ "receive", 1, 1, nflua_op_receive },
};

static const struct nflua_op *nflua_find_op(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nflua_ops); i++)
		if (strcmp(nflua_ops[i].name, name) == 0)
			return &nflua_ops[i];
	return NULL;
}

static int nflua_run_request(struct nflua_client *c)
{
	const struct nflua_op *op = nflua_find_op(c->req.op);
	struct nflua_reply *r;
	int ret;

	r = nflua_reply_new();
	if (!r)
		return -ENOMEM;
	if (c->req.nfields < op->min_fields || c->req.nfields > op->max_fields) {
		nflua_reply_error(r, EINVAL, "'%s' takes %u to %u fields, not %u", op->name,
				  op->min_fields, op->max_fields, c->req.nfields);
		ret = 0;
	} else {
		ret = op->run(c, &c->req, r);
	}
	if (ret == 0)
		ret = nflua_queue_reply(c, r);
	else if (ret == 1)
		ret = 0;
	nflua_reply_free(r);
	return ret;
}

/* ---- framing ---- */

/* Parses "op len len...\n"; on error queues the error reply and returns -EINVAL. */
static int nflua_parse_header(struct nflua_client *c)
{
	struct nflua_request *q = &c->req;
	char *p = c->hdr, *tok;
	u64 total = 0;
	u32 i;

	c->hdr[c->hdr_len - 1] = '\0';	/* the newline */
	tok = strsep(&p, " ");
	if (!*tok || strlen(tok) >= sizeof(q->op) || strspn(tok, "abcdefghijklmnopqrstuvwxyz") != strlen(tok))
		return nflua_queue_error(c, EINVAL, "malformed request header") ?: -EINVAL;
	strscpy(q->op, tok, sizeof(q->op));
	if (!nflua_find_op(q->op))
		return nflua_queue_error(c, EOPNOTSUPP, "unknown operation '%s'", q->op) ?: -EINVAL;
	while (p && *p) {
		u64 len;

		tok = strsep(&p, " ");
		if (q->nfields == NFLUA_REQ_FIELDS)
			return nflua_queue_error(c, EINVAL, "more than %d fields", NFLUA_REQ_FIELDS) ?: -EINVAL;
		if (!*tok || strlen(tok) > 10 || !isdigit(*tok) || kstrtou64(tok, 10, &len))
			return nflua_queue_error(c, EINVAL, "malformed field length '%.12s'", tok) ?: -EINVAL;
		total += len;
		if (total > NFLUA_REQ_MAX)
			break;
		q->lens[q->nfields++] = len;
	}
	if (total > NFLUA_REQ_MAX)
		return nflua_queue_error(c, EMSGSIZE, "request of %llu bytes is over the %u MiB limit",
					 total, NFLUA_REQ_MAX >> 20) ?: -EINVAL;
	q->len = total;
	q->buf = nflua_kvmalloc(total ?: 1);
	if (!q->buf)
		return -ENOMEM;
	for (i = 0, total = 0; i < q->nfields; i++) {
		q->fields[i] = q->buf + total;
		total += q->lens[i];
	}
	c->in_body = true;
	return 0;
}

/* Consumes header bytes up to the newline; returns bytes consumed or -errno. */
static ssize_t nflua_write_header(struct nflua_client *c, const char __user *ubuf, size_t count)
{
	size_t room = NFLUA_HDR_MAX - c->hdr_len, n = min(count, room);
	char *nl;

	if (copy_from_user(c->hdr + c->hdr_len, ubuf, n))
		return -EFAULT;
	nl = memchr(c->hdr + c->hdr_len, '\n', n);
	if (!nl) {
		c->hdr_len += n;
		if (c->hdr_len == NFLUA_HDR_MAX) {
			nflua_request_reset(c);
			return nflua_queue_error(c, EINVAL, "request header longer than %d bytes",
						 NFLUA_HDR_MAX) ?: -EINVAL;
		}
		return n;
	}
	n = nl - (c->hdr + c->hdr_len) + 1;
	c->hdr_len += n;
	if (memchr(c->hdr, '\0', c->hdr_len)) {
		nflua_request_reset(c);
		return nflua_queue_error(c, EINVAL, "malformed request header") ?: -EINVAL;
	}
	return nflua_parse_header(c) ?: n;
}

static ssize_t nflua_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	struct nflua_client *c = file->private_data;
	size_t done = 0;
	ssize_t ret = 0;

	if (!nflua_permitted(c->net))
		return -EPERM;
	mutex_lock(&c->lock);
	if (c->out || c->waiting) {
		ret = -EBUSY;
		goto out;
	}
	c->nonblock = file->f_flags & O_NONBLOCK;
	while (done < count && !c->out && !c->waiting) {
		if (!c->in_body) {
			ret = nflua_write_header(c, ubuf + done, count - done);
			if (ret < 0) {
				nflua_request_reset(c);
				if (ret == -EINVAL) {	/* malformed, reply queued: discard the rest */
					done = count;
					ret = 0;
				}
				break;
			}
			done += ret;
		} else {
			size_t n = min(count - done, c->req.len - c->got);

			if (copy_from_user(c->req.buf + c->got, ubuf + done, n)) {
				ret = -EFAULT;
				break;
			}
			c->got += n;
			done += n;
		}
		if (c->in_body && c->got == c->req.len) {
			ret = nflua_run_request(c);
			nflua_request_reset(c);
			if (ret < 0)
				break;
		}
	}
out:
	mutex_unlock(&c->lock);
	return done ? done : ret;
}

/*
 * A 'receive' is waiting: block (unless O_NONBLOCK) until a message or the state's end.
 * Sleepers wait on the module's receive queue (channel.h), never on the state, and hold a
 * reference of their own while they sleep: other readers of this descriptor (fork, dup) may
 * answer the receive and drop the descriptor's reference meanwhile. Another receiver may also
 * take the messages between the wake-up and the pop: then this one waits again, so a reply
 * always carries at least one message (or the error).
 */
static int nflua_wait_receive(struct nflua_client *c, struct file *file)
{
	struct nflua_state *s = c->waiting;
	struct nflua_reply *r;
	int ret;

	for (;;) {
		if (!nflua_channel_ready(&s->chan)) {
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			nflua_state_get(s);
			mutex_unlock(&c->lock);
			ret = wait_event_interruptible(nflua_channel_wq,
						       READ_ONCE(c->waiting) != s ||
						       nflua_channel_ready(&s->chan));
			mutex_lock(&c->lock);
			nflua_state_put(s);	/* c->waiting still holds one if it is s */
			if (ret)
				return -EINTR;
			if (c->waiting != s)	/* another reader of this descriptor took it */
				return 0;
		}
		r = nflua_reply_new();
		if (!r)
			return -ENOMEM;
		if (!nflua_channel_pop(&s->chan, r) && !r->nfields) {
			nflua_reply_free(r);	/* another receiver was faster */
			continue;
		}
		ret = nflua_queue_reply(c, r);
		nflua_reply_free(r);
		if (ret == 0) {
			WRITE_ONCE(c->waiting, NULL);
			nflua_state_put(s);
			/* other readers of this descriptor re-check */
			wake_up_interruptible_all(&nflua_channel_wq);
		}
		return ret;
	}
}

static ssize_t nflua_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct nflua_client *c = file->private_data;
	ssize_t ret = 0;
	size_t n;

	/* replies carry what scripts send: reading is checked like writing */
	if (!nflua_permitted(c->net))
		return -EPERM;
	mutex_lock(&c->lock);
	if (c->hdr_len || c->in_body) {
		size_t want = c->in_body ? c->req.len : 0, got = c->got;

		nflua_request_reset(c);
		ret = nflua_queue_error(c, EPROTO,
					"truncated request: %zu of %zu announced bytes arrived", got, want);
		if (ret)
			goto out;
	}
	if (!c->out && c->waiting) {
		ret = nflua_wait_receive(c, file);
		if (ret)
			goto out;
	}
	if (!c->out)
		goto out;	/* nothing to read: end of file */
	n = min(count, c->out_end - c->out_off);
	if (copy_to_user(ubuf, c->out + c->out_off, n)) {
		ret = -EFAULT;
		goto out;
	}
	c->out_off += n;
	ret = n;
	if (c->out_off == c->out_end) {
		nflua_kvfree(c->out, c->out_len);
		c->out = NULL;
	}
out:
	mutex_unlock(&c->lock);
	return ret;
}

static __poll_t nflua_poll(struct file *file, poll_table *wait)
{
	struct nflua_client *c = file->private_data;
	__poll_t mask = 0;

	if (!nflua_permitted(c->net))
		return EPOLLERR;
	/* the module's queue, not the state's: a poll or epoll entry may outlive the state */
	poll_wait(file, &nflua_channel_wq, wait);
	mutex_lock(&c->lock);
	if (c->waiting) {
		if (nflua_channel_ready(&c->waiting->chan))
			mask |= EPOLLIN | EPOLLRDNORM;
	} else if (c->out || c->hdr_len || c->in_body) {
		mask |= EPOLLIN | EPOLLRDNORM;	/* a reply, or a truncated request to report */
	} else {
		/* nothing pending: read() returns end of file at once, so it is readable (shells
		 * poll before they read), and a request may be written */
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
	}
	mutex_unlock(&c->lock);
	return mask;
}

static int nflua_open(struct inode *inode, struct file *file)
{
	struct net *net = current->nsproxy->net_ns;
	struct nflua_client *c;

	if (!nflua_permitted(net))
		return -EPERM;
	c = nflua_kmalloc(sizeof(*c), GFP_KERNEL | __GFP_ZERO);
	if (!c)
		return -ENOMEM;
	mutex_init(&c->lock);
	c->net = get_net(net);
	file->private_data = c;
	return stream_open(inode, file);
}

static int nflua_release(struct inode *inode, struct file *file)
{
	struct nflua_client *c = file->private_data;

	nflua_request_reset(c);
	nflua_kvfree(c->out, c->out_len);
	if (c->waiting)
		nflua_state_put(c->waiting);
	put_net(c->net);
	nflua_kfree(c, sizeof(*c));
	return 0;
}

static const struct file_operations nflua_fops = {
	.owner = THIS_MODULE,
	.open = nflua_open,
	.release = nflua_release,
	.read = nflua_read,
	.write = nflua_write,
	.poll = nflua_poll,
};

static struct miscdevice nflua_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nflua",
	.fops = &nflua_fops,
	.mode = 0600,
};

int nflua_control_init(void)
{
	return misc_register(&nflua_misc);
}

void nflua_control_exit(void)
{
	misc_deregister(&nflua_misc);
}
