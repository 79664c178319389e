/*
 * nflua-fuzz: generated requests on /dev/nflua, every reply checked against docs/protocol.md.
 *
 *   nflua-fuzz [--seed N] [--count N]
 *
 * Prints "seed N" first; the same seed replays the same run (requests and their order; the
 * background receiver's timing is the kernel's). Generators: valid requests of every operation
 * (names from a small pool, so creates, destroys and lookups hit and miss), truncated requests
 * (EPROTO), oversized fields and headers (EMSGSIZE/EINVAL), bad numbers, unknown operations,
 * wrong field counts, several requests in one write(), descriptors closed mid-request, chunks
 * that error, exhaust the budget or memory, or queue messages, and a forked receiver that keeps
 * blocking 'receive's going on the same states. Checks per reply: header "ERRNO LEN...\n" of
 * decimal numbers, the announced bytes and nothing more (a read never returns bytes of two
 * replies), an error has exactly one non-empty field and a documented errno, a successful
 * receive has at least one message, and each generator's expected errno. On a violation:
 * "FAIL request #I (seed S): ..." with the request, and "replay: nflua-fuzz --seed S --count
 * I"; exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSTATES		5
#define REPLY_MAX	(300U << 10)

static uint64_t rng;
static unsigned long long seed;
static long cur;			/* request number */
static char req[1 << 20];		/* the current request, for the report */
static size_t req_len;
static char *rbuf;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static unsigned int below(unsigned int n)
{
	return n ? rnd() % n : 0;
}

static void show_request(void)
{
	size_t i, n = req_len < 200 ? req_len : 200;

	fprintf(stderr, "request (%zu bytes): \"", req_len);
	for (i = 0; i < n; i++) {
		unsigned char c = req[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\"%s\n", req_len > n ? "..." : "");
}

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL request #%ld (seed %llu): ", cur, seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	show_request();
	fprintf(stderr, "replay: /test/tools/nflua-fuzz --seed %llu --count %ld\n", seed, cur + 1);
	exit(1);
}

static int dev_open(void)
{
	int fd = open("/dev/nflua", O_RDWR);

	if (fd < 0)
		fail("open /dev/nflua: %s", strerror(errno));
	return fd;
}

/* ---- building requests ---- */

struct field {
	const char *p;
	size_t len;
};

static void req_reset(void)
{
	req_len = 0;
}

static void req_add(const void *p, size_t n)
{
	if (req_len + n > sizeof(req))
		n = sizeof(req) - req_len;
	memcpy(req + req_len, p, n);
	req_len += n;
}

static void req_fmt(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(req + req_len, sizeof(req) - req_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		req_len += (size_t)n < sizeof(req) - req_len ? (size_t)n : 0;
}

static void req_build(const char *op, const struct field *f, int n)
{
	int i;

	req_reset();
	req_fmt("%s", op);
	for (i = 0; i < n; i++)
		req_fmt(" %zu", f[i].len);
	req_fmt("\n");
	for (i = 0; i < n; i++)
		req_add(f[i].p, f[i].len);
}

/* ---- replies ---- */

struct reply {
	int err;
	int nfields;
	size_t lens[300];
	size_t total;
	char *body;
};

static int documented(int err)
{
	static const int ok[] = { 1, 2, 7, 11, 12, 16, 17, 22, 28, 38, 62, 71, 90, 95 };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == err)
			return 1;
	return 0;
}

/* Reads one reply (several read()s if short) and checks its framing. */
static void get_reply(int fd, struct reply *r)
{
	size_t got = 0, hdr_end = 0, want = 0;
	char *p, *end;

	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t n = read(fd, rbuf + got, REPLY_MAX - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read: %s", strerror(errno));
		if (n == 0)
			fail("end of file after %zu bytes of a reply", got);
		got += n;
		if (!hdr_end) {
			p = memchr(rbuf, '\n', got);
			if (!p) {
				if (got > 12 + 256 * 11)
					fail("reply header without a newline");
				continue;
			}
			hdr_end = p - rbuf + 1;
			/* parse "ERRNO LEN...\n" */
			p = rbuf;
			if (*p < '0' || *p > '9')
				fail("reply header does not start with a number: %.40s", rbuf);
			r->err = strtol(p, &end, 10);
			p = end;
			while (*p == ' ') {
				p++;
				if (*p < '0' || *p > '9')
					fail("bad length in reply header: %.*s", (int)hdr_end, rbuf);
				if (r->nfields == 300)
					fail("more than 300 fields");
				r->lens[r->nfields] = strtoul(p, &end, 10);
				r->total += r->lens[r->nfields++];
				p = end;
			}
			if (*p != '\n')
				fail("junk in reply header: %.*s", (int)hdr_end, rbuf);
			want = hdr_end + r->total;
			if (want > REPLY_MAX)
				fail("reply of %zu bytes is larger than any reply may be", want);
		}
		if (got > want)
			fail("read returned %zu bytes past the reply (%zu announced)", got - want, want);
		if (got == want)
			break;
	}
	r->body = rbuf + hdr_end;
	if (r->err < 0 || (r->err && !documented(r->err)))
		fail("errno %d is not one docs/protocol.md lists", r->err);
	if (r->err && (r->nfields != 1 || r->lens[0] == 0))
		fail("error %d reply with %d fields (one non-empty message expected)", r->err,
		     r->nfields);
}

/* Nothing may follow a reply: read() returns end of file (no request, no receive pending). */
static void expect_eof(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	if (n != 0)
		fail("a read after the reply returned %zd (%s)", n, n < 0 ? strerror(errno) : "data");
}

/* Writes the whole request, reading replies in between when the device stops early (several
 * requests in one write). Returns the number of replies read through 'each'. */
static int send_all(int fd, void (*each)(struct reply *r, int i))
{
	size_t off = 0;
	int nreplies = 0;
	struct reply r;

	while (off < req_len) {
		ssize_t n = write(fd, req + off, req_len - off);

		if (n < 0 && errno == EBUSY) {
			get_reply(fd, &r);
			each(&r, nreplies++);
			continue;
		}
		if (n < 0)
			fail("write: %s", strerror(errno));
		if (n == 0)
			fail("write returned 0");
		off += n;
		if (off < req_len) {	/* a reply stopped it */
			get_reply(fd, &r);
			each(&r, nreplies++);
		}
	}
	return nreplies;
}

/* ---- generators ---- */

static const char *names[NSTATES] = { "f0", "f1", "f2", "f3", "f4" };

static const char *const chunks[] = {
	"return 1 + 1, 'x'",
	"return",
	"nflua.send('m') return true",
	"for i = 1, 10 do nflua.send(string.rep('y', i * 100)) end",
	"error('boom')",
	"error({})",
	"while true do end",
	"return string.rep('x', 300000)",
	"local t = {} for i = 1, 1000000000 do t[i] = string.rep('z', 64) .. i end",
	"return (",
	"function on_receive(d) nflua.send(d) return #d, d end",
	"on_receive = nil",
	"return table.unpack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})",
	"\x1bLua",
	"return 1 // 0",
	"collectgarbage() return collectgarbage('count') > 0",
};

static int expect_err = -1;		/* -1: any documented result */

static void check_one(struct reply *r, int i)
{
	(void)i;
	if (expect_err >= 0 && r->err != expect_err)
		fail("errno %d, expected %d (%.*s)", r->err, expect_err,
		     r->nfields ? (int)(r->lens[0] < 200 ? r->lens[0] : 200) : 0, r->body);
}

static void check_version(struct reply *r, int i)
{
	(void)i;
	if (r->err || r->nfields != 1 || memcmp(r->body, "nflua ", 6))
		fail("version reply: errno %d, %d fields", r->err, r->nfields);
}

static void gen_valid(int fd, int nbfd)
{
	const char *name = names[below(NSTATES)];
	struct field f[3];
	char opt[2][40];
	struct reply r;
	int which = below(9);

	f[0].p = name;
	f[0].len = strlen(name);
	expect_err = -1;
	switch (which) {
	case 0:
		req_build("version", NULL, 0);
		send_all(fd, check_version);
		get_reply(fd, &r);
		check_version(&r, 0);
		expect_eof(fd);
		return;
	case 1: {	/* create with options, in range or not */
		int n = 1;

		if (below(2)) {
			snprintf(opt[0], sizeof(opt[0]), "maxalloc=%u",
				 below(4) ? 65536 + below(1 << 21) : below(1 << 30));
			f[n].p = opt[0];
			f[n++].len = strlen(opt[0]);
		}
		if (below(2)) {
			snprintf(opt[1], sizeof(opt[1]), "budget=%u",
				 below(4) ? 1000 + below(200000) : below(2000000000));
			f[n].p = opt[1];
			f[n++].len = strlen(opt[1]);
		}
		req_build("create", f, n);
		break;
	}
	case 2:
		req_build("destroy", f, 1);
		break;
	case 3:
		req_build("list", NULL, 0);
		break;
	case 4:
		req_build("stats", f, below(2));
		break;
	case 5:
		snprintf(opt[0], sizeof(opt[0]), "budget=%u", 1000 + below(100000));
		f[1].p = opt[0];
		f[1].len = strlen(opt[0]);
		req_build("set", f, 2);
		break;
	case 6: {
		const char *c = chunks[below(sizeof(chunks) / sizeof(chunks[0]))];

		f[1].p = name;
		f[1].len = strlen(name);
		f[2].p = c;
		f[2].len = strlen(c);
		req_build("execute", f, 3);
		break;
	}
	case 7: {
		static char data[4096];
		size_t i, len = below(sizeof(data));

		for (i = 0; i < len; i++)
			data[i] = rnd();
		f[1].p = data;
		f[1].len = len;
		req_build("send", f, 2);
		break;
	}
	case 8:	/* nonblocking: EAGAIN, ENOENT or messages */
		req_build("receive", f, 1);
		send_all(nbfd, check_one);
		get_reply(nbfd, &r);
		if (r.err == 0 && r.nfields < 1)
			fail("receive reply without messages");
		if (r.err && r.err != 11 && r.err != 2)
			fail("receive: errno %d", r.err);
		expect_eof(nbfd);
		return;
	}
	send_all(fd, check_one);
	get_reply(fd, &r);
	expect_eof(fd);
}

/* A request cut short, then read: EPROTO. */
static void gen_truncated(int fd)
{
	static const char *const base[] = {
		"execute 2 2 30\nf0f0return 1",
		"create 2 15\nf1",
		"create 2",
		"send 2 100\nf2abc",
		"stats",
		"version",
	};
	const char *b = base[below(6)];

	req_reset();
	req_add(b, strlen(b));
	expect_err = 71;
	send_all(fd, check_one);
	{
		struct reply r;

		get_reply(fd, &r);
		check_one(&r, 0);
	}
	expect_eof(fd);
}

/* Malformed headers: the error reply, and the rest of the write discarded. */
static void gen_malformed(int fd)
{
	char hdr[400];
	struct reply r;
	int k = below(9);

	req_reset();
	switch (k) {
	case 0:	/* over 64 MiB */
		req_fmt("execute 2 2 %u\nf0f0", 67108864 + below(1 << 30));
		expect_err = 90;
		break;
	case 1:	/* 11 digits */
		req_fmt("create 1%010u\n", below(1000000000));
		expect_err = -2;	/* EINVAL or EMSGSIZE */
		break;
	case 2:	/* more than 8 fields */
		req_fmt("create 1 1 1 1 1 1 1 1 1\nabcdefghi");
		expect_err = 22;
		break;
	case 3:	/* header too long */
		memset(hdr, '1', sizeof(hdr));
		req_fmt("version %.*s\n", 256 + (int)below(100), hdr);
		expect_err = -2;
		break;
	case 4: {	/* bad numbers */
		static const char *const bad[] = { "-3", "+3", "3a", "3x", "0x3", " 3", "3\t" };

		req_fmt("create %s\nabc", bad[below(7)]);
		expect_err = 22;
		break;
	}
	case 5: {	/* unknown operation of random lower-case letters */
		int i, n = 1 + below(14);

		for (i = 0; i < n; i++)
			hdr[i] = 'a' + below(26);
		hdr[n] = '\0';
		req_fmt("%s 1\nx", hdr);
		expect_err = -1;	/* may name a real operation */
		break;
	}
	case 6:	/* field count out of an operation's range */
		req_fmt("%s", below(2) ? "version 1\nx" : "execute 1 1\nab");
		expect_err = 22;
		break;
	case 7:	/* random bytes before the newline */
	{
		int i, n = 1 + below(60);

		for (i = 0; i < n; i++) {
			char c = rnd();

			hdr[i] = c == '\n' ? ' ' : c;
		}
		req_add(hdr, n);
		req_fmt("\n");
		expect_err = -1;
		break;
	}
	default:	/* a NUL in the header */
		req_add("cre\0ate 1\nx", 11);
		expect_err = -2;
		break;
	}
	send_all(fd, check_one);
	get_reply(fd, &r);
	if (expect_err == -2 && r.err != 22 && r.err != 90 && r.err != 95)
		fail("errno %d for a malformed header", r.err);
	if (expect_err >= 0 && r.err != expect_err)
		fail("errno %d, expected %d", r.err, expect_err);
	if (expect_err == -1 && k == 7 && r.err == 0 && r.nfields == 0 && 0)
		fail("unreachable");
	expect_eof(fd);
}

/* Several valid requests in one write(): each gets its reply, in order. */
static int many_seen;

static void check_many(struct reply *r, int i)
{
	(void)i;
	if (r->err != 0 || r->nfields != 1 || memcmp(r->body, "nflua ", 6))
		fail("reply %d of several requests in one write: errno %d", many_seen, r->err);
	many_seen++;
}

static void gen_many(int fd)
{
	int i, n = 2 + below(6);
	struct reply r;

	req_reset();
	for (i = 0; i < n; i++)
		req_fmt("version\n");
	many_seen = 0;
	send_all(fd, check_many);
	get_reply(fd, &r);
	check_many(&r, 0);
	if (many_seen != n)
		fail("%d requests in one write, %d replies", n, many_seen);
	expect_eof(fd);
}

/* A descriptor closed with a partial request, an unread reply or a pending receive. */
static void gen_close(void)
{
	int fd = dev_open();
	const char *name = names[below(NSTATES)];

	req_reset();
	switch (below(3)) {
	case 0:
		req_fmt("execute 2 2 100\n%s%sreturn", name, name);
		break;
	case 1:
		req_fmt("list\n");
		break;
	default:
		req_fmt("receive %zu\n%s", strlen(name), name);
		break;
	}
	if (write(fd, req, req_len) < 0 && errno != EBUSY)
		fail("write: %s", strerror(errno));
	close(fd);
}

/* The background receiver: blocking receives on every state, each reply checked. */
static void receiver(unsigned long long s)
{
	int fd = dev_open();
	struct reply r;

	rng = s * 7 + 1;
	for (cur = 0;; cur++) {
		const char *name = names[below(NSTATES)];

		req_reset();
		req_fmt("receive %zu\n%s", strlen(name), name);
		expect_err = -1;
		send_all(fd, check_one);
		get_reply(fd, &r);
		if (r.err == 0 && r.nfields < 1)
			fail("receiver: receive reply without messages");
		if (r.err && r.err != 2)
			fail("receiver: receive answered errno %d", r.err);
		if (r.err == 2)
			usleep(1000);	/* no such state (yet) */
	}
}

int main(int argc, char **argv)
{
	long count = 10000, i;
	int fd, nbfd, status, c;
	pid_t kid;

	seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: nflua-fuzz [--seed N] [--count N]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("seed %llu\n", seed);
	rbuf = malloc(REPLY_MAX);
	if (!rbuf)
		return 2;
	rng = seed * 2 + 1;
	fd = dev_open();
	nbfd = open("/dev/nflua", O_RDWR | O_NONBLOCK);
	if (nbfd < 0)
		fail("open: %s", strerror(errno));
	/* the states begin with receivers and small limits (fast budget and memory errors) */
	for (i = 0; i < NSTATES; i++) {
		req_reset();
		req_fmt("create %zu 14 12\n%smaxalloc=262144budget=20000", strlen(names[i]),
			names[i]);
		expect_err = -1;
		send_all(fd, check_one);
		{
			struct reply r;

			get_reply(fd, &r);
		}
	}
	kid = fork();
	if (kid < 0)
		fail("fork: %s", strerror(errno));
	if (kid == 0)
		receiver(seed);
	for (cur = 0; cur < count; cur++) {
		c = below(100);
		if (c < 55)
			gen_valid(fd, nbfd);
		else if (c < 65)
			gen_truncated(fd);
		else if (c < 85)
			gen_malformed(fd);
		else if (c < 93)
			gen_many(fd);
		else
			gen_close();
		if (waitpid(kid, &status, WNOHANG) == kid)
			fail("the background receiver ended (status 0x%x)", status);
		if (cur % 1000 == 999)
			printf("%ld requests\n", cur + 1);
	}
	kill(kid, SIGKILL);
	waitpid(kid, &status, 0);
	/* leave no state behind */
	for (i = 0; i < NSTATES; i++) {
		req_reset();
		req_fmt("destroy %zu\n%s", strlen(names[i]), names[i]);
		expect_err = -1;
		send_all(fd, check_one);
		{
			struct reply r;

			get_reply(fd, &r);
		}
	}
	printf("%ld requests, every reply as documented (seed %llu)\n", count, seed);
	return 0;
}
