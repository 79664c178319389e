/*
 * nflua-io: descriptor-level checks of /dev/nflua that busybox cannot do.
 *
 *   nflua-io poll FD          poll(FD) without waiting; prints the revents set, e.g. "IN OUT"
 *                             (or "none"), and "read: ERRNO-NAME" or "read: N bytes" for one
 *                             non-blocking read(FD) after it
 *   nflua-io epoll-destroy STATE
 *                             a 'receive STATE' pending on a descriptor registered in an epoll
 *                             set, the state destroyed from another descriptor, the receive
 *                             answered (ENOENT), memory of the state's size reused by a Lua
 *                             state's strings, then the epoll set closed. Prints each step;
 *                             exits 0 when every reply was as docs/protocol.md says. A wait
 *                             queue that died with the state shows up here as a kernel
 *                             "list_del corruption" report (or a KASAN use-after-free).
 *   nflua-io readers STATE N  N processes block in read() on one descriptor with 'receive STATE'
 *                             pending; STATE is destroyed and memory reused as above; each
 *                             reader reports what it read. Exits 0 when exactly one reader got
 *                             the ENOENT reply and the others got end of file.
 *   nflua-io flood ADDR PORT SECONDS
 *                             sends small UDP datagrams to ADDR:PORT (IPv4) for SECONDS,
 *                             in bursts of 20 with 2 ms pauses; prints how many went out
 *   nflua-io race STATE N ROUNDS
 *                             N processes, each with its own descriptor, loop on blocking
 *                             'receive STATE'; ROUNDS times one message is sent and handed to
 *                             whichever wins. Prints "empty reply" and exits 1 when a receive
 *                             is answered with "0\n" (no message), which docs/protocol.md
 *                             does not allow; exits 0 when every message arrived exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int dev_open(void)
{
	int fd = open("/dev/nflua", O_RDWR);

	if (fd < 0)
		die("open /dev/nflua");
	return fd;
}

/* Writes a request of up to 3 string fields (NULL ends the list). */
static void request(int fd, const char *op, const char *f1, const char *f2, const char *f3)
{
	const char *f[3] = { f1, f2, f3 };
	char buf[65536];
	int n, i;

	n = snprintf(buf, sizeof(buf), "%s", op);
	for (i = 0; i < 3 && f[i]; i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %zu", strlen(f[i]));
	n += snprintf(buf + n, sizeof(buf) - n, "\n");
	for (i = 0; i < 3 && f[i]; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s", f[i]);
	if (write(fd, buf, n) != n)
		die(op);
}

/* Reads one whole reply; returns its errno, copies the header into hdr. */
static int reply(int fd, char *hdr, size_t size)
{
	char buf[1 << 18];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	if (n < 0)
		die("read reply");
	buf[n] = '\0';
	snprintf(hdr, size, "%.*s", (int)strcspn(buf, "\n"), buf);
	return n ? atoi(buf) : -1;
}

static int quiet;

static int call(int fd, const char *op, const char *f1, const char *f2, const char *f3)
{
	char hdr[128];
	int err;

	request(fd, op, f1, f2, f3);
	err = reply(fd, hdr, sizeof(hdr));
	if (!quiet || err)
		printf("%s %s: %s\n", op, f1 ? f1 : "", hdr);
	return err;
}

/* Fills freed slots of every kmalloc size a state struct may have with zero bytes: Lua strings
 * made by 'execute' come from the same caches as the state struct (both charged to the
 * caller's memory cgroup, kmalloc-cg-* since 5.14). One 'execute' per round of about 950
 * allocations: on the debug kernel (KASAN, kmemleak, lockdep) an allocation costs up to
 * milliseconds under TCG, and three rounds in one call ran past its 15 s time limit. */
static void churn(int fd)
{
	static const char code[] =
		"keep = keep or {} for n = 150, 1100, 2 do "
		"keep[#keep + 1] = string.rep('\\0', n) .. #keep end return #keep";
	int i, r;

	for (i = 0; i < 5; i++) {
		for (r = 0; r < 3; r++)
			if (call(fd, "execute", "churn", "churn", code))
				exit(1);
		/* keep the last round's allocated */
		if (i < 4 && call(fd, "execute", "churn", "churn", "keep = nil collectgarbage()"))
			exit(1);
	}
}

static int cmd_poll(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	char buf[256];
	ssize_t n;
	int fl;

	if (poll(&p, 1, 0) < 0)
		die("poll");
	if (!p.revents)
		printf("none");
	if (p.revents & POLLIN)
		printf("IN ");
	if (p.revents & POLLOUT)
		printf("OUT ");
	if (p.revents & POLLERR)
		printf("ERR ");
	if (p.revents & POLLHUP)
		printf("HUP ");
	printf("\n");
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl");
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		printf("read: %s\n", errno == EPERM ? "EPERM" : errno == EAGAIN ? "EAGAIN" : strerror(errno));
	else
		printf("read: %zd bytes\n", n);
	fcntl(fd, F_SETFL, fl);
	return 0;
}

static int cmd_epoll_destroy(const char *state)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int a = dev_open(), b = dev_open(), ep, n, ok = 1;
	char hdr[128];

	if (call(b, "create", state, NULL, NULL) ||
	    call(b, "create", "churn", "maxalloc=16777216", "budget=10000000"))
		return 1;
	request(a, "receive", state, NULL, NULL);
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	ev.data.fd = a;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev))
		die("epoll_ctl");
	n = epoll_wait(ep, &out, 1, 0);
	printf("epoll before destroy: %d ready\n", n);
	ok &= n == 0;
	ok &= call(b, "destroy", state, NULL, NULL) == 0;
	n = epoll_wait(ep, &out, 1, 1000);
	printf("epoll after destroy: %d ready\n", n);
	ok &= n == 1;
	n = reply(a, hdr, sizeof(hdr));
	printf("receive %s: %s\n", state, hdr);
	ok &= n == 2;
	/* the waiting receive's reference is gone: the state struct is free now (unless the
	 * module keeps it for the epoll entry) */
	churn(b);
	n = epoll_wait(ep, &out, 1, 0);
	printf("epoll after the reply: %d ready\n", n);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL))
		die("epoll_ctl del");
	close(ep);
	printf("epoll set closed\n");
	ok &= call(b, "destroy", "churn", NULL, NULL) == 0;
	close(a);
	close(b);
	return ok ? 0 : 1;
}

static int cmd_readers(const char *state, int nreaders)
{
	int a = dev_open(), b = dev_open(), i, status, enoent = 0, eof = 0, other = 0;
	pid_t pids[16];
	int pipes[16][2];

	if (nreaders < 2 || nreaders > 16)
		return 2;
	if (call(b, "create", state, NULL, NULL) ||
	    call(b, "create", "churn", "maxalloc=16777216", "budget=10000000"))
		return 1;
	request(a, "receive", state, NULL, NULL);
	for (i = 0; i < nreaders; i++) {
		if (pipe(pipes[i]))
			die("pipe");
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			char hdr[128];
			int err;

			close(pipes[i][0]);
			err = reply(a, hdr, sizeof(hdr));
			dprintf(pipes[i][1], "%d", err);
			printf("reader %d: '%s'\n", i, hdr);
			_exit(0);
		}
		close(pipes[i][1]);
	}
	/* let every reader block in read() */
	usleep(500000);
	if (call(b, "destroy", state, NULL, NULL))
		return 1;
	churn(b);
	for (i = 0; i < nreaders; i++) {
		char buf[16] = "";
		ssize_t n = read(pipes[i][0], buf, sizeof(buf) - 1);

		if (n > 0 && atoi(buf) == 2)
			enoent++;
		else if (n > 0 && atoi(buf) == -1)
			eof++;
		else
			other++;
		waitpid(pids[i], &status, 0);
	}
	printf("readers: %d ENOENT, %d end of file, %d other\n", enoent, eof, other);
	call(b, "destroy", "churn", NULL, NULL);
	return enoent == 1 && eof == nreaders - 1 ? 0 : 1;
}

static int cmd_race(const char *state, int n, int rounds)
{
	int b = dev_open(), i, round, got = 0, bad = 0, status;
	int res[2];
	pid_t pids[16];
	char code[128];

	if (n < 2 || n > 16 || pipe(res))
		return 2;
	if (call(b, "create", state, NULL, NULL))
		return 1;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			int fd = dev_open();

			for (;;) {
				char hdr[128];
				int err;

				request(fd, "receive", state, NULL, NULL);
				err = reply(fd, hdr, sizeof(hdr));
				if (err != 0 || strchr(hdr, ' ') == NULL) {
					/* 'E' = a reply without messages (or an error) */
					if (write(res[1], "E", 1) != 1)
						_exit(2);
					fprintf(stderr, "receiver %d: reply '%s'\n", i, hdr);
					_exit(1);
				}
				/* one byte per message: the header has one length per message */
				for (err = 0; hdr[err]; err++)
					if (hdr[err] == ' ' && write(res[1], "m", 1) != 1)
						_exit(2);
			}
		}
	}
	close(res[1]);
	usleep(300000);		/* let them block */
	quiet = 1;
	for (round = 0; round < rounds && !bad; round++) {
		char c;

		snprintf(code, sizeof(code), "nflua.send('r%d')", round);
		if (call(b, "execute", state, state, code))
			return 1;
		/* wait for this message's delivery (or a failure) */
		for (;;) {
			if (read(res[0], &c, 1) != 1)
				die("read result");
			if (c == 'E') {
				bad = 1;
				break;
			}
			got++;
			break;
		}
	}
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(pids[i], &status, 0);
	call(b, "destroy", state, NULL, NULL);
	printf("race: %d rounds, %d messages received%s\n", round, got,
	       bad ? ", empty reply" : "");
	return bad || got != rounds ? 1 : 0;
}

static int cmd_flood(const char *addr, int port, int secs)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	time_t end = time(NULL) + secs;
	unsigned long sent = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		die("socket");
	while (time(NULL) < end) {
		int i;

		for (i = 0; i < 20; i++)
			if (sendto(fd, "flood", 5, 0, (struct sockaddr *)&sa, sizeof(sa)) == 5)
				sent++;
		usleep(2000);	/* leave the control path CPU (each datagram runs Lua twice) */
	}
	printf("flood: %lu datagrams\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "poll") == 0)
		return cmd_poll(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "epoll-destroy") == 0)
		return cmd_epoll_destroy(argv[2]);
	if (argc == 4 && strcmp(argv[1], "readers") == 0)
		return cmd_readers(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "flood") == 0)
		return cmd_flood(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "race") == 0)
		return cmd_race(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: nflua-io poll FD | epoll-destroy STATE | readers STATE N | "
		"race STATE N ROUNDS | flood ADDR PORT SECONDS\n");
	return 2;
}
