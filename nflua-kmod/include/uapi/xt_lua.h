/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtables match "lua" and target "LUA" (nflua.ko), revision 0, IPv4 and IPv6: the rule data
 * shared by the kernel and the iptables extensions (libxt_lua.so, libxt_LUA.so).
 *
 *   iptables -A FORWARD -p tcp --dport 80 -m lua --state web --function check_ua -j DROP
 *   iptables -A FORWARD -p tcp --dport 443 -j LUA --state tls --function verdict
 *
 * The match calls STATE's global FUNCTION with a packet object; a true result matches (the
 * opposite with '!'). With --tcp-payload only TCP packets that carry payload are handed to Lua;
 * others do not match. The target's function returns a verdict string (docs/lua-api.md).
 */
#ifndef _UAPI_XT_LUA_H
#define _UAPI_XT_LUA_H

#include <linux/types.h>

#define XT_LUA_NAME_SIZE	64	/* state name: 1-63 printable ASCII, no space or '/' */
#define XT_LUA_FUNC_SIZE	64	/* function: a Lua identifier of 1-63 characters */

enum {
	XT_LUA_INVERT		= 1 << 0,	/* match: '!' */
	XT_LUA_TCP_PAYLOAD	= 1 << 1,	/* match: only TCP packets with payload */
	XT_LUA_FLAGS		= XT_LUA_INVERT | XT_LUA_TCP_PAYLOAD,
};

struct xt_lua_info {
	char state[XT_LUA_NAME_SIZE];
	char function[XT_LUA_FUNC_SIZE];
	__u32 flags;

	/* Used internally by the kernel: the state, referenced while the rule exists. */
	void *priv __attribute__((aligned(8)));
};

#endif
