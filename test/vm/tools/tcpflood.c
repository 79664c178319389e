/*
 * tcpflood ADDR PORT SECONDS: sends TCP segments with ACK|PSH and an HTTP request as payload
 * to ADDR:PORT (IPv4 or IPv6) from a raw socket, for SECONDS or until killed, each from its own
 * source port, with a valid checksum: to a `pkt:tcpreply()` rule each looks like a request of
 * an established connection, so each gets an answer, without a handshake or a server. Send
 * errors (the route or the namespace gone) are counted, not fatal. Prints
 * "tcpflood: N sent, M refused" at the end (SIGTERM or SIGINT end it cleanly).
 * Used by test/vm/cases/p39-reply-teardown.sh.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint32_t sum16(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	for (; n > 1; n -= 2, b += 2)
		sum += (uint32_t)b[0] << 8 | b[1];
	if (n)
		sum += (uint32_t)b[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	struct sockaddr_storage dst = { 0 }, src = { 0 };
	socklen_t dlen, slen = sizeof(src);
	unsigned long sent = 0, refused = 0;
	unsigned char seg[sizeof(struct tcphdr) + sizeof(req) - 1];
	struct tcphdr *th = (struct tcphdr *)seg;
	int fd, v6, port, secs;
	uint16_t sport = 20000;
	time_t end;

	if (argc != 4) {
		fprintf(stderr, "usage: tcpflood ADDR PORT SECONDS\n");
		return 2;
	}
	port = atoi(argv[2]);
	secs = atoi(argv[3]);
	v6 = strchr(argv[1], ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&dst;

		a->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, argv[1], &a->sin6_addr) != 1)
			return 2;
		dlen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&dst;

		a->sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[1], &a->sin_addr) != 1)
			return 2;
		dlen = sizeof(*a);
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	if (v6) {
		int off = offsetof(struct tcphdr, check);	/* the kernel computes it */

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)) < 0) {
			perror("IPV6_CHECKSUM");
			return 2;
		}
	}
	/* the source address, for the IPv4 pseudo-header */
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&src, &slen) < 0) {
		perror("connect");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	memcpy(seg + sizeof(*th), req, sizeof(req) - 1);
	end = time(NULL) + secs;
	while (!stop && time(NULL) < end) {
		memset(th, 0, sizeof(*th));
		th->source = htons(sport);
		th->dest = htons(port);
		th->seq = htonl(1000);
		th->ack_seq = htonl(2000);
		th->doff = sizeof(*th) / 4;
		th->ack = 1;
		th->psh = 1;
		th->window = htons(65535);
		if (!v6) {
			const struct sockaddr_in *s = (const struct sockaddr_in *)&src;
			const struct sockaddr_in *d = (const struct sockaddr_in *)&dst;
			uint32_t sum = 0;

			sum = sum16(&s->sin_addr, 4, sum);
			sum = sum16(&d->sin_addr, 4, sum);
			sum += IPPROTO_TCP + sizeof(seg);
			th->check = htons(fold(sum16(seg, sizeof(seg), sum)));
		}
		if (send(fd, seg, sizeof(seg), 0) == (ssize_t)sizeof(seg))
			sent++;
		else if (errno != EINTR) {
			refused++;
			usleep(1000);
		}
		sport = sport >= 60000 ? 20000 : sport + 1;
		if (sent % 4 == 0)
			usleep(1000);	/* leave the other side of the test some CPU */
	}
	printf("tcpflood: %lu sent, %lu refused\n", sent, refused);
	return 0;
}
