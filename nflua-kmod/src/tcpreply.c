// SPDX-License-Identifier: GPL-2.0
/*
 * pkt:tcpreply(msg) (tcpreply.h). The reply goes to the sender of the segment: addresses and
 * ports swapped, seq = the segment's ack, ack = its seq plus what it occupied, flags
 * ACK|PSH|FIN (the answer is the whole answer: a block page, a redirect). The checksum is
 * computed here in full, so no device offload is assumed. Like the REJECT target, nothing is
 * sent for a RST, a fragment, a bad checksum or a broadcast/multicast destination; nor for a
 * segment with FIN, which every answer is: an answer is never answered, whatever path it takes
 * (this router's OUTPUT, another namespace, another router), so replies cannot feed each other.
 *
 * Sending: never from inside the table traversal that called Lua. iptables-legacy keeps a
 * table's jump stack per CPU, so a reply's OUTPUT traversal on the same CPU overwrites where
 * the outer traversal returns from a user chain (its rules after that chain were skipped), and
 * a reply sent from inside a traversal nests another one on the same stack. The kernel's own
 * targets send from inside only with an absolute verdict (REJECT, SYNPROXY); our match has no
 * verdict. So the reply is routed and attached to its connection in the hook, then queued on
 * this CPU and sent by a tasklet: a softirq of its own, which runs after the current
 * traversal is over (softirqs do not nest on a CPU). The queue is bounded; each entry holds a reference on its
 * network namespace (and the skb its route and conntrack entry), dropped when sent.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/percpu.h>
#include <linux/tcp.h>
#include <linux/skbuff.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/netfilter/x_tables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/ip6_checksum.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "packet.h"
#include "tcpreply.h"

/* Replies waiting for their tasklet, per CPU. */
struct nflua_replyq {
	struct sk_buff_head skbs;
	struct tasklet_struct tasklet;
};

static DEFINE_PER_CPU(struct nflua_replyq, nflua_replyq);

/* What a queued reply needs to be sent, in its cb until then. */
struct nflua_reply_cb {
	struct net *net;	/* referenced */
	u8 family;
};

#define NFLUA_REPLY_CB(skb)	((struct nflua_reply_cb *)(skb)->cb)

/* The segment's TCP header, if a reply to it is allowed; NULL with *why set otherwise. */
static const struct tcphdr *nflua_tcpreply_oldtcp(struct nflua_packet *p, struct tcphdr *buf,
						   const char **why)
{
	struct sk_buff *oldskb = p->skb;
	int hook = xt_hooknum(p->par);
	const struct tcphdr *oth;
	unsigned int otcplen;

	if (p->proto != IPPROTO_TCP || !p->l4ok) {
		*why = "not a TCP segment";
		return NULL;
	}
	/* the reply's route starts from the packet's: before routing (PREROUTING) it has none */
	if (!skb_dst(oldskb)) {
		*why = "the packet has no route yet (call tcpreply from INPUT, FORWARD or OUTPUT)";
		return NULL;
	}
	if (p->family == 4) {
		if (skb_rtable(oldskb)->rt_flags & (RTCF_BROADCAST | RTCF_MULTICAST)) {
			*why = "broadcast or multicast packet";
			return NULL;
		}
		oth = nf_reject_ip_tcphdr_get(oldskb, buf, hook);
	} else {
		const struct ipv6hdr *oip6h = ipv6_hdr(oldskb);

		if (!(ipv6_addr_type(&oip6h->saddr) & IPV6_ADDR_UNICAST) ||
		    !(ipv6_addr_type(&oip6h->daddr) & IPV6_ADDR_UNICAST)) {
			*why = "multicast packet";
			return NULL;
		}
		oth = nf_reject_ip6_tcphdr_get(oldskb, buf, &otcplen, hook);
	}
	if (!oth) {
		*why = "a reset, a fragment or a bad checksum";
		return NULL;
	}
	if (oth->syn || !oth->ack) {
		*why = "the connection is not established (the segment has SYN or no ACK)";
		return NULL;
	}
	if (oth->fin) {
		*why = "the segment has FIN (as every tcpreply answer: an answer is never answered)";
		return NULL;
	}
	return oth;
}

int nflua_tcpreply_build(struct nflua_packet *p, const char *msg, size_t len, const char **why)
{
	struct sk_buff *oldskb = p->skb, *nskb;
	const struct tcphdr *oth;
	struct tcphdr _oth, *th;
	unsigned int iplen, tcplen = sizeof(struct tcphdr) + len;
	__wsum csum;

	if (len > NFLUA_TCPREPLY_MAX) {
		*why = "reply longer than " __stringify(NFLUA_TCPREPLY_MAX) " bytes";
		return -EMSGSIZE;
	}
	if (p->reply) {
		*why = "this packet already has a reply";
		return -EEXIST;
	}
	/* the call runs under a spinlock: this CPU's queue is the one finish will use */
	if (skb_queue_len(&this_cpu_ptr(&nflua_replyq)->skbs) >= NFLUA_TCPREPLY_QUEUE) {
		*why = "too many replies waiting to be sent on this CPU (" \
		       __stringify(NFLUA_TCPREPLY_QUEUE) ")";
		return -ENOBUFS;
	}
	oth = nflua_tcpreply_oldtcp(p, &_oth, why);
	if (!oth)
		return -EINVAL;

	iplen = p->family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	nskb = alloc_skb(LL_MAX_HEADER + iplen + tcplen, GFP_ATOMIC);
	if (!nskb) {
		*why = "out of memory";
		return -ENOMEM;
	}
	skb_reserve(nskb, LL_MAX_HEADER);
	if (p->family == 4) {
		nskb->mark = IP4_REPLY_MARK(xt_net(p->par), oldskb->mark);
		nf_reject_iphdr_put(nskb, oldskb, IPPROTO_TCP, ip4_dst_hoplimit(skb_dst(oldskb)));
	} else {
		nskb->mark = IP6_REPLY_MARK(xt_net(p->par), oldskb->mark);
		nf_reject_ip6hdr_put(nskb, oldskb, IPPROTO_TCP, ip6_dst_hoplimit(skb_dst(oldskb)));
	}

	skb_reset_transport_header(nskb);
	th = skb_put_zero(nskb, sizeof(*th));
	th->source = oth->dest;
	th->dest = oth->source;
	th->seq = oth->ack_seq;
	/* what the segment occupied in sequence space: its data (it has no SYN or FIN) */
	th->ack_seq = htonl(ntohl(oth->seq) + (p->len - p->payoff));
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	th->psh = 1;
	th->fin = 1;
	th->window = oth->window;
	skb_put_data(nskb, msg, len);

	csum = csum_partial(th, tcplen, 0);
	if (p->family == 4) {
		struct iphdr *niph = ip_hdr(nskb);

		niph->tot_len = htons(iplen + tcplen);
		th->check = tcp_v4_check(tcplen, niph->saddr, niph->daddr, csum);
	} else {
		struct ipv6hdr *nip6h = ipv6_hdr(nskb);

		nip6h->payload_len = htons(tcplen);
		th->check = csum_ipv6_magic(&nip6h->saddr, &nip6h->daddr, tcplen, IPPROTO_TCP, csum);
	}
	nskb->ip_summed = CHECKSUM_NONE;
	p->reply = nskb;
	return 0;
}

static void nflua_tcpreply_free(struct sk_buff *skb)
{
	put_net(NFLUA_REPLY_CB(skb)->net);
	kfree_skb(skb);
}

/* Sends this CPU's queued replies: a softirq, outside any table traversal. */
static void nflua_tcpreply_tasklet(struct tasklet_struct *t)
{
	struct nflua_replyq *q = from_tasklet(q, t, tasklet);
	struct sk_buff_head list;
	struct sk_buff *skb;

	__skb_queue_head_init(&list);
	spin_lock_irq(&q->skbs.lock);
	skb_queue_splice_init(&q->skbs, &list);
	spin_unlock_irq(&q->skbs.lock);
	while ((skb = __skb_dequeue(&list))) {
		struct net *net = NFLUA_REPLY_CB(skb)->net;
		u8 family = NFLUA_REPLY_CB(skb)->family;

		memset(skb->cb, 0, sizeof(skb->cb));	/* IPCB/IP6CB from here on */
		if (family == 4)
			ip_local_out(net, NULL, skb);
		else
			ip6_local_out(net, NULL, skb);
		put_net(net);
	}
}

void nflua_tcpreply_finish(struct nflua_packet *p)
{
	struct sk_buff *nskb = p->reply, *oldskb = p->skb;
	struct net *net = xt_net(p->par);
	struct nflua_replyq *q;
	unsigned long flags;
	int err;

	if (!nskb)
		return;
	p->reply = NULL;
	if (p->failed)
		goto drop;

	/* route_me_harder looks up the reply's own route, starting from the packet's device */
	skb_dst_set_noref(nskb, skb_dst(oldskb));
	if (p->family == 4)
		err = ip_route_me_harder(net, p->par->state->sk, nskb, RTN_UNSPEC);
	else
		err = ip6_route_me_harder(net, p->par->state->sk, nskb);
	if (err || nskb->len > dst_mtu(skb_dst(nskb)))
		goto drop;
	/* a namespace being dismantled gets no more replies */
	NFLUA_REPLY_CB(nskb)->net = maybe_get_net(net);
	if (!NFLUA_REPLY_CB(nskb)->net)
		goto drop;
	NFLUA_REPLY_CB(nskb)->family = p->family;
	/* in the connection's conntrack entry, so NAT is undone and state follows */
	nf_ct_attach(nskb, oldskb);

	local_irq_save(flags);
	q = this_cpu_ptr(&nflua_replyq);
	spin_lock(&q->skbs.lock);
	if (skb_queue_len(&q->skbs) < NFLUA_TCPREPLY_QUEUE) {
		__skb_queue_tail(&q->skbs, nskb);
		nskb = NULL;
	}
	spin_unlock(&q->skbs.lock);
	if (!nskb)
		tasklet_schedule(&q->tasklet);
	local_irq_restore(flags);
	if (nskb)
		nflua_tcpreply_free(nskb);
	return;
drop:
	kfree_skb(nskb);
}

void nflua_tcpreply_init(void)
{
	int cpu;

	BUILD_BUG_ON(sizeof(struct nflua_reply_cb) > sizeof_field(struct sk_buff, cb));
	for_each_possible_cpu(cpu) {
		struct nflua_replyq *q = per_cpu_ptr(&nflua_replyq, cpu);

		skb_queue_head_init(&q->skbs);
		tasklet_setup(&q->tasklet, nflua_tcpreply_tasklet);
	}
}

/* No rule is left: nothing queues any more. Sends what is queued, then stops the tasklets. */
void nflua_tcpreply_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct nflua_replyq *q = per_cpu_ptr(&nflua_replyq, cpu);
		struct sk_buff *skb;

		tasklet_kill(&q->tasklet);
		while ((skb = skb_dequeue(&q->skbs)))
			nflua_tcpreply_free(skb);
	}
}
