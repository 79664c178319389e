// SPDX-License-Identifier: GPL-2.0
/*
 * nftcompat FAMILY match|target STATE FUNCTION: ask the kernel itself, with an nf_tables batch
 * over raw netlink (no libnftnl in the guest), to add a rule whose one expression is the
 * xtables match "lua" or target "LUA" (revision 0) through nft_compat, in a table of FAMILY
 * (ip, ip6, bridge, arp). User-space tools (ebtables-nft, arptables-nft) refuse such rules
 * before the kernel sees them; this asks the kernel directly, as any CAP_NET_ADMIN program can.
 *
 * First batch: table "nftcompat" and a base chain "c" (filter; forward hook, input for arp).
 * Second batch: the rule. Then the table is deleted again.
 * Exit 0: the kernel accepted the rule. Exit 1: it refused it; stderr says
 * "refused: MESSAGE (errno N)". Exit 2: anything else (usage, setup, netlink).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_arp.h>

#include "xt_lua.h"

#define TABLE	"nftcompat"
#define CHAIN	"c"

static char buf[8192];
static size_t len;
static uint32_t seq = 1;
static int nmsgs;		/* messages of the batch that ask for an ack */

static void *put(const void *data, size_t n)
{
	void *p = buf + len;

	if (len + NLMSG_ALIGN(n) > sizeof(buf)) {
		fprintf(stderr, "nftcompat: batch too large\n");
		exit(2);
	}
	memset(p, 0, NLMSG_ALIGN(n));
	if (data)
		memcpy(p, data, n);
	len += NLMSG_ALIGN(n);
	return p;
}

static struct nlmsghdr *msg_begin(uint16_t type, uint16_t flags, uint8_t family, uint16_t resid)
{
	struct nlmsghdr *nlh = put(NULL, NLMSG_HDRLEN);
	struct nfgenmsg *nfg = put(NULL, sizeof(*nfg));

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq++;
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(resid);
	if (flags & NLM_F_ACK)
		nmsgs++;
	return nlh;
}

static void msg_end(struct nlmsghdr *nlh)
{
	nlh->nlmsg_len = buf + len - (char *)nlh;
}

static struct nlattr *attr(uint16_t type, const void *data, size_t n)
{
	struct nlattr *a = put(NULL, NLA_HDRLEN + n);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + n;
	if (n)
		memcpy((char *)a + NLA_HDRLEN, data, n);
	return a;
}

static void attr_str(uint16_t type, const char *s)
{
	attr(type, s, strlen(s) + 1);
}

static void attr_u32(uint16_t type, uint32_t v)
{
	v = htonl(v);
	attr(type, &v, sizeof(v));
}

static struct nlattr *nest_begin(uint16_t type)
{
	return attr(type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct nlattr *a)
{
	a->nla_len = buf + len - (char *)a;
}

static void batch_begin(void)
{
	len = 0;
	nmsgs = 0;
	msg_end(msg_begin(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

static void batch_end(void)
{
	msg_end(msg_begin(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

#define NFT(t)	((NFNL_SUBSYS_NFTABLES << 8) | (t))

/* Sends the batch; 0 if every message was acknowledged, else the first error (negative). */
static int batch_send(int fd)
{
	int acks = 0, first = 0;

	if (send(fd, buf, len, 0) != (ssize_t)len) {
		perror("nftcompat: send");
		exit(2);
	}
	while (acks < nmsgs) {
		char rbuf[8192];
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *nlh;

		if (n < 0) {
			perror("nftcompat: recv");
			exit(2);
		}
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			acks++;
			if (e->error && !first)
				first = e->error;
		}
	}
	return first;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; uint8_t family; uint32_t hook; } fams[] = {
		{ "ip", NFPROTO_IPV4, NF_INET_FORWARD },
		{ "ip6", NFPROTO_IPV6, NF_INET_FORWARD },
		{ "bridge", NFPROTO_BRIDGE, NF_INET_FORWARD },	/* NF_BR_FORWARD */
		{ "arp", NFPROTO_ARP, NF_ARP_IN },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	struct xt_lua_info info;
	struct nlattr *n1, *n2, *n3;
	struct nlmsghdr *nlh;
	int fd, err, target;
	size_t i;

	if (argc != 5 || (strcmp(argv[2], "match") && strcmp(argv[2], "target"))) {
		fprintf(stderr, "usage: nftcompat ip|ip6|bridge|arp match|target STATE FUNCTION\n");
		return 2;
	}
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		if (strcmp(argv[1], fams[i].name) == 0)
			break;
	if (i == sizeof(fams) / sizeof(fams[0])) {
		fprintf(stderr, "nftcompat: unknown family %s\n", argv[1]);
		return 2;
	}
	target = strcmp(argv[2], "target") == 0;
	memset(&info, 0, sizeof(info));
	snprintf(info.state, sizeof(info.state), "%s", argv[3]);
	snprintf(info.function, sizeof(info.function), "%s", argv[4]);

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("nftcompat: netlink socket");
		return 2;
	}

	batch_begin();
	nlh = msg_begin(NFT(NFT_MSG_NEWTABLE), NLM_F_CREATE | NLM_F_ACK, fams[i].family, 0);
	attr_str(NFTA_TABLE_NAME, TABLE);
	msg_end(nlh);
	nlh = msg_begin(NFT(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, fams[i].family, 0);
	attr_str(NFTA_CHAIN_TABLE, TABLE);
	attr_str(NFTA_CHAIN_NAME, CHAIN);
	n1 = nest_begin(NFTA_CHAIN_HOOK);
	attr_u32(NFTA_HOOK_HOOKNUM, fams[i].hook);
	attr_u32(NFTA_HOOK_PRIORITY, 0);
	nest_end(n1);
	attr_str(NFTA_CHAIN_TYPE, "filter");
	msg_end(nlh);
	batch_end();
	err = batch_send(fd);
	if (err) {
		fprintf(stderr, "nftcompat: table and chain in family %s: %s (errno %d)\n",
			argv[1], strerror(-err), -err);
		return 2;
	}

	batch_begin();
	nlh = msg_begin(NFT(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
			fams[i].family, 0);
	attr_str(NFTA_RULE_TABLE, TABLE);
	attr_str(NFTA_RULE_CHAIN, CHAIN);
	n1 = nest_begin(NFTA_RULE_EXPRESSIONS);
	n2 = nest_begin(NFTA_LIST_ELEM);
	attr_str(NFTA_EXPR_NAME, target ? "target" : "match");
	n3 = nest_begin(NFTA_EXPR_DATA);
	attr_str(target ? NFTA_TARGET_NAME : NFTA_MATCH_NAME, target ? "LUA" : "lua");
	attr_u32(target ? NFTA_TARGET_REV : NFTA_MATCH_REV, 0);
	attr(target ? NFTA_TARGET_INFO : NFTA_MATCH_INFO, &info, XT_ALIGN(sizeof(info)));
	nest_end(n3);
	nest_end(n2);
	nest_end(n1);
	msg_end(nlh);
	batch_end();
	err = batch_send(fd);

	batch_begin();
	nlh = msg_begin(NFT(NFT_MSG_DELTABLE), NLM_F_ACK, fams[i].family, 0);
	attr_str(NFTA_TABLE_NAME, TABLE);
	msg_end(nlh);
	batch_end();
	if (batch_send(fd)) {
		fprintf(stderr, "nftcompat: could not delete table %s\n", TABLE);
		return 2;
	}
	if (err) {
		fprintf(stderr, "refused: %s (errno %d)\n", strerror(-err), -err);
		return 1;
	}
	printf("accepted: %s %s in family %s\n", target ? "target LUA" : "match lua", argv[3],
	       argv[1]);
	return 0;
}
