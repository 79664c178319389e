/*
 * nflua-timed STATE CODE: one `execute` request on /dev/nflua (chunk name = STATE), timed with
 * the guest's monotonic clock around the write that runs it and the read of its reply, so the
 * time is the kernel's, not a shell's. CODE "-" reads the chunk from stdin.
 * Prints one line: "ERRNO MS FIRST-RESULT-OR-MESSAGE" (the text cut at 160 bytes, newlines as
 * spaces); exits 0 when the reply came (whatever its errno), 1 on a device or protocol error.
 * Used by test/vm/cases/35-hostile.sh and 32-budget-coroutines.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *slurp(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	ssize_t r;

	while (b && (r = read(0, b + n, cap - n)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	*len = n;
	return b;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char hdr[256], *code, *body;
	size_t clen, nlen, total = 0, i;
	unsigned long lens[8];
	struct timespec t0, t1;
	int fd, err, nf = 0;
	char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: nflua-timed STATE CODE|-\n");
		return 2;
	}
	nlen = strlen(argv[1]);
	if (strcmp(argv[2], "-") == 0)
		code = slurp(&clen);
	else
		code = argv[2], clen = strlen(code);
	fd = open("/dev/nflua", O_RDWR);
	if (fd < 0 || !code) {
		perror("/dev/nflua");
		return 1;
	}
	snprintf(hdr, sizeof(hdr), "execute %zu %zu %zu\n", nlen, nlen, clen);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (write_all(fd, hdr, strlen(hdr)) || write_all(fd, argv[1], nlen) ||
	    write_all(fd, argv[1], nlen) || write_all(fd, code, clen))
		goto io;
	for (i = 0; i < sizeof(hdr) - 1; i++) {
		if (read_all(fd, hdr + i, 1))
			goto io;
		if (hdr[i] == '\n')
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	hdr[i] = '\0';
	err = (int)strtol(hdr, &p, 10);
	while (nf < 8 && *p == ' ') {
		lens[nf] = strtoul(p + 1, &p, 10);
		total += lens[nf++];
	}
	body = malloc(total + 1);
	if (!body || read_all(fd, body, total))
		goto io;
	body[nf ? lens[0] : 0] = '\0';
	for (p = body; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	printf("%d %ld %.160s\n", err,
	       (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000), body);
	return 0;
io:
	perror("nflua-timed");
	return 1;
}
