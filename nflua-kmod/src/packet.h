/* SPDX-License-Identifier: GPL-2.0 */
/* The packet object scripts get (docs/lua-api.md): valid only during the call it was given to. */
#ifndef _NFLUA_PACKET_H
#define _NFLUA_PACKET_H

#include <linux/types.h>

struct lua_State;
struct sk_buff;
struct xt_action_param;

struct nflua_packet {
	struct sk_buff *skb;
	const struct xt_action_param *par;
	unsigned int nhoff;		/* network header, from skb->data */
	unsigned int len;		/* bytes from the network header on */
	unsigned int l4off;		/* transport header, from the network header */
	unsigned int payoff;		/* payload, from the network header */
	u8 family;			/* 4 or 6 */
	u8 proto;			/* IPPROTO_*; 0 if unknown (e.g. a later fragment) */
	bool l4ok;			/* the transport header is complete */
	bool verdict_reset;		/* the target asked for a TCP reset */
	bool failed;			/* the call ended in an error: its requests are void */
	struct sk_buff *reply;		/* pkt:tcpreply(), sent after the call (tcpreply.h) */
};

/* Parses the headers; false if the packet is not IPv4/IPv6 or is malformed. */
bool nflua_packet_init(struct nflua_packet *p, struct sk_buff *skb,
		       const struct xt_action_param *par);
bool nflua_packet_has_tcp_payload(const struct nflua_packet *p);

/* Creates the state's packet object (at state creation, after the string library) and returns
 * its binding: set it to a packet for a call, and to NULL after, so a reference a script keeps
 * fails cleanly ("packet used outside its call"). The object lives as long as the state. */
struct nflua_packet **nflua_packet_openlib(struct lua_State *L);
void nflua_packet_push(struct lua_State *L);

#endif
