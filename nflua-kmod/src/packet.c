// SPDX-License-Identifier: GPL-2.0
/*
 * The packet object. One userdata per state, made once and rebound to each packet: no
 * allocation per packet, and a reference a script keeps past its call finds the binding gone
 * ("packet used outside its call"). Bytes are read with skb_header_pointer/skb_copy_bits only,
 * so non-linear and GSO/GRO packets read correctly and never out of bounds; only what a
 * script asks for is copied.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/skbuff.h>
#include <linux/netfilter/x_tables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_ecache.h>

#include "lua.h"
#include "lauxlib.h"

#include "packet.h"
#include "state.h"
#include "tcpreply.h"

#define NFLUA_PACKET_MT		"nflua.packet"
/* the registry key of the state's packet object: a light userdata, found without a string */
static const char nflua_packet_key;

bool nflua_packet_init(struct nflua_packet *p, struct sk_buff *skb,
		       const struct xt_action_param *par)
{
	memset(p, 0, sizeof(*p));
	p->skb = skb;
	p->par = par;
	p->nhoff = skb_network_offset(skb);
	if (skb->len < p->nhoff)
		return false;
	p->len = skb->len - p->nhoff;

	if (xt_family(par) == NFPROTO_IPV4) {	/* or IPv6: the only families registered */
		struct iphdr _iph;
		const struct iphdr *iph = skb_header_pointer(skb, p->nhoff, sizeof(_iph), &_iph);

		if (!iph || iph->version != 4 || iph->ihl < 5)
			return false;
		p->family = 4;
		p->l4off = iph->ihl * 4;
		/* a later fragment has no transport header */
		p->proto = (ntohs(iph->frag_off) & IP_OFFSET) ? 0 : iph->protocol;
	} else {
		unsigned int off = 0;
		unsigned short fragoff = 0;
		int proto;

		p->family = 6;
		proto = ipv6_find_hdr(skb, &off, -1, &fragoff, NULL);
		if (proto < 0 || off < p->nhoff)
			return false;
		p->l4off = off - p->nhoff;
		p->proto = fragoff ? 0 : proto;
	}
	if (p->l4off > p->len)
		return false;

	p->payoff = p->l4off;
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr _th;
		const struct tcphdr *th = skb_header_pointer(skb, p->nhoff + p->l4off,
							     sizeof(_th), &_th);

		if (th && th->doff >= 5 && p->l4off + th->doff * 4 <= p->len) {
			p->payoff = p->l4off + th->doff * 4;
			p->l4ok = true;
		}
		break;
	}
	case IPPROTO_UDP:
		if (p->l4off + sizeof(struct udphdr) <= p->len) {
			p->payoff = p->l4off + sizeof(struct udphdr);
			p->l4ok = true;
		}
		break;
	}
	return true;
}

bool nflua_packet_has_tcp_payload(const struct nflua_packet *p)
{
	return p->proto == IPPROTO_TCP && p->l4ok && p->payoff < p->len;
}

/* The state has one packet object: comparing addresses is the type check (luaL_checkudata,
 * the registry lookup by name, only to word the error). */
static struct nflua_packet *nflua_checkpacket(lua_State *L)
{
	struct nflua_packet **pp = lua_touserdata(L, 1);

	if (unlikely(!pp || pp != nflua_state_of(L)->pkt))
		pp = luaL_checkudata(L, 1, NFLUA_PACKET_MT);

	if (!*pp)
		luaL_error(L, "packet used outside its call");
	return *pp;
}

/* Pushes bytes [off, off + n) of the packet (offsets from the network header) as a string. */
static void nflua_pushbytes(lua_State *L, struct nflua_packet *p, unsigned int off, unsigned int n)
{
	luaL_Buffer b;
	char *dst = luaL_buffinitsize(L, &b, n);

	if (skb_copy_bits(p->skb, p->nhoff + off, dst, n) < 0)
		luaL_error(L, "packet bytes %u-%u are out of reach", off, off + n);
	luaL_pushresultsize(&b, n);
}

/* Lua's string.sub rules for i, j over a range of n bytes; returns the count, start in *from. */
static unsigned int nflua_subrange(lua_State *L, int arg, unsigned int n, unsigned int *from)
{
	lua_Integer i = luaL_optinteger(L, arg, 1);
	lua_Integer j = luaL_optinteger(L, arg + 1, -1);

	if (i < 0)
		i = max_t(lua_Integer, (lua_Integer)n + i + 1, 1);
	else if (i == 0)
		i = 1;
	if (j < 0)
		j = (lua_Integer)n + j + 1;
	else if (j > (lua_Integer)n)
		j = n;
	if (i > j)
		return 0;
	*from = i - 1;
	return j - i + 1;
}

/* pkt:bytes([i [, j]]): the packet from the network header, like string.sub */
static int nflua_packet_bytes(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);
	unsigned int from = 0, n = nflua_subrange(L, 2, p->len, &from);

	nflua_pushbytes(L, p, from, n);
	return 1;
}

/* pkt:payload([i [, j]]): the transport payload (TCP, UDP), like string.sub */
static int nflua_packet_payload(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);
	unsigned int from = 0, n;

	if (!p->l4ok) {
		lua_pushliteral(L, "");
		return 1;
	}
	n = nflua_subrange(L, 2, p->len - p->payoff, &from);
	nflua_pushbytes(L, p, p->payoff + from, n);
	return 1;
}

/*
 * pkt:unpack(fmt [, pos]): string.unpack over the packet from the network header, pos 1-based.
 * Copies only the bytes the format needs (formats of fixed size only).
 */
#define NFLUA_UNPACK_FAST	16	/* integers a format may hold for the fast path */

/*
 * The fast path of pkt:unpack, for formats of integers only ('<', '>', '=', ' ', b B h H
 * i[n] I[n] j J l L T with n 1..8): decodes straight from the packet's bytes, with no copy
 * into a Lua string and no call into the string library. Returns the count of results
 * pushed, or -1 for a format it does not take (the general path then handles it, errors
 * included; nothing was pushed).
 */
static int nflua_unpack_fast(lua_State *L, struct nflua_packet *p, const char *fmt, size_t flen,
			     lua_Integer pos)
{
	struct { u8 size; bool sign, little; } opt[NFLUA_UNPACK_FAST];
	unsigned int n = 0, total = 0, i, k;
	bool little = !IS_ENABLED(CONFIG_CPU_BIG_ENDIAN);	/* Lua's default: native */
	u8 _buf[NFLUA_UNPACK_FAST * 8];
	const u8 *b;
	size_t f;

	for (f = 0; f < flen; f++) {
		char c = fmt[f];
		unsigned int size;

		switch (c) {
		case ' ': continue;
		case '<': little = true; continue;
		case '>': little = false; continue;
		case '=': little = !IS_ENABLED(CONFIG_CPU_BIG_ENDIAN); continue;
		case 'b': case 'B': size = 1; break;
		case 'h': case 'H': size = 2; break;
		case 'j': case 'J': case 'l': case 'L': case 'T': size = 8; break;
		case 'i': case 'I':
			size = 4;
			if (f + 1 < flen && fmt[f + 1] >= '1' && fmt[f + 1] <= '8' &&
			    !(f + 2 < flen && fmt[f + 2] >= '0' && fmt[f + 2] <= '9'))
				size = fmt[++f] - '0';
			else if (f + 1 < flen && fmt[f + 1] >= '0' && fmt[f + 1] <= '9')
				return -1;	/* a size the general path checks */
			break;
		default:
			return -1;
		}
		if (n == NFLUA_UNPACK_FAST)
			return -1;
		opt[n].size = size;
		opt[n].sign = c >= 'a';
		opt[n].little = little;
		total += size;
		n++;
	}
	if (n == 0 || total > (lua_Integer)p->len - (pos - 1))
		return -1;	/* the general path words the error */
	b = skb_header_pointer(p->skb, p->nhoff + pos - 1, total, _buf);
	if (!b)
		return -1;
	luaL_checkstack(L, n + 1, "too many results");
	for (i = 0; i < n; i++) {
		u64 v = 0;

		for (k = 0; k < opt[i].size; k++)
			v |= (u64)b[opt[i].little ? k : opt[i].size - 1 - k] << (8 * k);
		if (opt[i].sign && opt[i].size < 8 && (v >> (8 * opt[i].size - 1)) & 1)
			v |= ~(u64)0 << (8 * opt[i].size);
		lua_pushinteger(L, (lua_Integer)v);
		b += opt[i].size;
	}
	lua_pushinteger(L, pos + total);
	return n + 1;
}

static int nflua_packet_unpack(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);
	lua_Integer pos = luaL_optinteger(L, 3, 1), size;
	size_t flen;
	const char *fmt = luaL_checklstring(L, 2, &flen);
	int n;

	luaL_argcheck(L, pos >= 1 && pos <= (lua_Integer)p->len + 1, 3, "initial position out of packet");
	n = nflua_unpack_fast(L, p, fmt, flen, pos);
	if (n >= 0)
		return n;
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));	/* string.packsize */
	lua_pushvalue(L, 2);
	lua_call(L, 1, 1);	/* errors for variable-length formats */
	size = lua_tointeger(L, -1);
	lua_pop(L, 1);
	if (size < 0 || size > (lua_Integer)p->len - (pos - 1))
		return luaL_error(L, "data too short: %d bytes at position %d of a %d-byte packet",
				  (int)size, (int)pos, (int)p->len);
	lua_pushvalue(L, lua_upvalueindex(2));	/* string.unpack */
	lua_pushvalue(L, 2);
	nflua_pushbytes(L, p, pos - 1, size);
	lua_call(L, 2, LUA_MULTRET);
	/* the last result is the next position in the copy: make it one in the packet */
	lua_pushinteger(L, lua_tointeger(L, -1) + pos - 1);
	lua_replace(L, -2);
	return lua_gettop(L) - 2;
}

static void nflua_pushaddr(lua_State *L, struct nflua_packet *p, bool src)
{
	char buf[48];

	if (p->family == 4) {
		__be32 _a, *a = skb_header_pointer(p->skb, p->nhoff + (src ? 12 : 16), 4, &_a);

		if (!a)
			goto fail;
		snprintf(buf, sizeof(buf), "%pI4", a);
	} else {
		struct in6_addr _a, *a = skb_header_pointer(p->skb, p->nhoff + (src ? 8 : 24),
							    sizeof(_a), &_a);

		if (!a)
			goto fail;
		snprintf(buf, sizeof(buf), "%pI6c", a);
	}
	lua_pushstring(L, buf);
	return;
fail:
	lua_pushnil(L);
}

static int nflua_pushport(lua_State *L, struct nflua_packet *p, bool src)
{
	__be16 _port, *port;

	if (!p->l4ok || (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)) {
		lua_pushnil(L);
		return 1;
	}
	port = skb_header_pointer(p->skb, p->nhoff + p->l4off + (src ? 0 : 2), 2, &_port);
	if (port)
		lua_pushinteger(L, ntohs(*port));
	else
		lua_pushnil(L);
	return 1;
}

/* pkt:mark([v]) and pkt:connmark([v]): get, or set and return the new value */
static int nflua_packet_mark(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);

	if (!lua_isnoneornil(L, 2))
		p->skb->mark = (u32)luaL_checkinteger(L, 2);
	lua_pushinteger(L, p->skb->mark);
	return 1;
}

static int nflua_packet_connmark(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);
#if IS_ENABLED(CONFIG_NF_CONNTRACK_MARK)
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(p->skb, &ctinfo);

	/* a template (raw table, after -j CT) is shared by every packet its rule sees: it is
	 * no connection, and its mark reaches none (nft_ct skips templates too) */
	if (!ct || nf_ct_is_template(ct)) {
		luaL_pushfail(L);
		return 1;
	}
	if (!lua_isnoneornil(L, 2)) {
		u32 v = (u32)luaL_checkinteger(L, 2);

		if (READ_ONCE(ct->mark) != v) {
			WRITE_ONCE(ct->mark, v);
			nf_conntrack_event_cache(IPCT_MARK, ct);
		}
	}
	lua_pushinteger(L, READ_ONCE(ct->mark));
#else
	luaL_pushfail(L);
#endif
	return 1;
}

/* pkt:reset(): the target's verdict becomes a TCP reset to the sender (and a drop) */
static int nflua_packet_reset(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);

	lua_pushboolean(L, p->proto == IPPROTO_TCP);
	if (p->proto == IPPROTO_TCP)
		p->verdict_reset = true;
	return 1;
}

/* pkt:tcpreply(msg): true, or fail and why (tcpreply.h) */
static int nflua_packet_tcpreply(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);
	size_t len;
	const char *msg = luaL_checklstring(L, 2, &len);
	const char *why = NULL;

	if (nflua_tcpreply_build(p, msg, len, &why) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, why);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int nflua_packet_len(lua_State *L)
{
	lua_pushinteger(L, nflua_checkpacket(L)->len);
	return 1;
}

static int nflua_packet_tostring(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);

	nflua_pushbytes(L, p, 0, p->len);
	return 1;
}

/* Fields: pkt.family, .protocol, .src, .dst, .sport, .dport, .l4off, .payloadoff, .payloadlen;
 * methods: bytes, payload, unpack, mark, connmark, reset, tcpreply. Found by length and
 * bytes, with no table lookup: this runs for every field a script reads. */
static int nflua_packet_index(lua_State *L)
{
	struct nflua_packet *p = nflua_checkpacket(L);
	size_t len;
	const char *k = luaL_checklstring(L, 2, &len);

#define NFLUA_IS(lit)	(len == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)
	switch (k[0]) {
	case 'd':
		if (NFLUA_IS("dport"))
			return nflua_pushport(L, p, false);
		if (NFLUA_IS("dst"))
			goto addr;
		break;
	case 's':
		if (NFLUA_IS("sport"))
			return nflua_pushport(L, p, true);
		if (NFLUA_IS("src"))
			goto addr;
		break;
	case 'f':
		if (NFLUA_IS("family")) {
			lua_pushinteger(L, p->family);
			return 1;
		}
		break;
	case 'p':
		if (NFLUA_IS("payload")) {
			lua_pushcfunction(L, nflua_packet_payload);
			return 1;
		}
		if (NFLUA_IS("protocol")) {
			lua_pushinteger(L, p->proto);
			return 1;
		}
		if (NFLUA_IS("payloadoff")) {
			lua_pushinteger(L, p->payoff);
			return 1;
		}
		if (NFLUA_IS("payloadlen")) {
			lua_pushinteger(L, p->l4ok ? p->len - p->payoff : 0);
			return 1;
		}
		break;
	case 'l':
		if (NFLUA_IS("l4off")) {
			lua_pushinteger(L, p->l4off);
			return 1;
		}
		break;
	case 'u':
		if (NFLUA_IS("unpack")) {
			lua_pushvalue(L, lua_upvalueindex(1));
			return 1;
		}
		break;
	case 'b':
		if (NFLUA_IS("bytes")) {
			lua_pushcfunction(L, nflua_packet_bytes);
			return 1;
		}
		break;
	case 'm':
		if (NFLUA_IS("mark")) {
			lua_pushcfunction(L, nflua_packet_mark);
			return 1;
		}
		break;
	case 'c':
		if (NFLUA_IS("connmark")) {
			lua_pushcfunction(L, nflua_packet_connmark);
			return 1;
		}
		break;
	case 'r':
		if (NFLUA_IS("reset")) {
			lua_pushcfunction(L, nflua_packet_reset);
			return 1;
		}
		break;
	case 't':
		if (NFLUA_IS("tcpreply")) {
			lua_pushcfunction(L, nflua_packet_tcpreply);
			return 1;
		}
		break;
	}
#undef NFLUA_IS
	lua_pushnil(L);
	return 1;
addr:
	nflua_pushaddr(L, p, k[0] == 's');
	return 1;
}

struct nflua_packet **nflua_packet_openlib(lua_State *L)
{
	struct nflua_packet **pp;

	luaL_newmetatable(L, NFLUA_PACKET_MT);
	/* unpack works through the string library as it was at creation */
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "packsize");
	lua_getfield(L, -2, "unpack");
	lua_pushcclosure(L, nflua_packet_unpack, 2);
	lua_remove(L, -2);
	lua_pushcclosure(L, nflua_packet_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, nflua_packet_len);
	lua_setfield(L, -2, "__len");
	lua_pushcfunction(L, nflua_packet_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "packet");
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);

	pp = lua_newuserdatauv(L, sizeof(*pp), 0);
	*pp = NULL;
	luaL_setmetatable(L, NFLUA_PACKET_MT);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &nflua_packet_key);	/* anchored: never collected */
	return pp;
}

void nflua_packet_push(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &nflua_packet_key);
}
