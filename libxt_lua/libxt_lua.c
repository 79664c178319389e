// SPDX-License-Identifier: GPL-2.0
/*
 * libxt_lua.so: iptables/ip6tables match "lua" of nflua.ko (struct xt_lua_info, xt_lua.h).
 *
 *   iptables -A FORWARD -p tcp --dport 80 -m lua --state web ! --function check_ua -j DROP
 *
 * No .xlate on purpose: nftables has no expression that calls into a Lua state, so there is
 * nothing to translate to; iptables-nft carries the rule through nft_compat unchanged.
 */
#include <stddef.h>
#include <stdio.h>
#include <xtables.h>
#include <xt_lua.h>
#include "libxt_lua.h"

static void lua_mt_help(void)
{
	printf(
"lua match options:\n"
"  --state NAME          Lua state to run (created with \"nfluactl create NAME\")\n"
"[!] --function NAME     global function of the state, called with the packet;\n"
"                        the rule matches when it returns true (with !: when not)\n"
"  --tcp-payload         only TCP packets that carry payload are handed to Lua;\n"
"                        other packets never match, with or without !\n"
"Example:\n"
"  iptables -A FORWARD -p tcp --dport 80 -m lua --state web --function check_ua\n"
"           --tcp-payload -j DROP\n");
}

#define s struct xt_lua_info
static const struct xt_option_entry lua_mt_opts[] = {
	{.name = "state", .id = O_STATE, .type = XTTYPE_STRING,
	 .flags = XTOPT_MAND | XTOPT_PUT, XTOPT_POINTER(s, state)},
	{.name = "function", .id = O_FUNCTION, .type = XTTYPE_STRING,
	 .flags = XTOPT_MAND | XTOPT_PUT | XTOPT_INVERT, XTOPT_POINTER(s, function)},
	{.name = "tcp-payload", .id = O_TCP_PAYLOAD, .type = XTTYPE_NONE},
	XTOPT_TABLEEND,
};
#undef s

static void lua_mt_parse(struct xt_option_call *cb)
{
	struct xt_lua_info *info = cb->data;

	lua_parse(cb);
	switch (cb->entry->id) {
	case O_FUNCTION:
		if (cb->invert)
			info->flags |= XT_LUA_INVERT;
		break;
	case O_TCP_PAYLOAD:
		info->flags |= XT_LUA_TCP_PAYLOAD;
		break;
	}
}

static void lua_mt_print(const void *ip, const struct xt_entry_match *match, int numeric)
{
	(void)ip;
	(void)numeric;
	printf(" lua");
	lua_dump((const struct xt_lua_info *)match->data, "");
}

static void lua_mt_save(const void *ip, const struct xt_entry_match *match)
{
	(void)ip;
	lua_dump((const struct xt_lua_info *)match->data, "--");
}

/* IPv4 and IPv6 only, as the kernel registers them: the bridge and ARP families (ebtables,
 * arptables) give verdicts other meanings. */
static struct xtables_match lua_mt_reg[] = {
	{
		.name		= "lua",
		.revision	= 0,
		.family		= NFPROTO_IPV4,
		.version	= XTABLES_VERSION,
		.size		= XT_ALIGN(sizeof(struct xt_lua_info)),
		.userspacesize	= offsetof(struct xt_lua_info, priv),
		.help		= lua_mt_help,
		.print		= lua_mt_print,
		.save		= lua_mt_save,
		.x6_parse	= lua_mt_parse,
		.x6_fcheck	= lua_fcheck,
		.x6_options	= lua_mt_opts,
	},
	{
		.name		= "lua",
		.revision	= 0,
		.family		= NFPROTO_IPV6,
		.version	= XTABLES_VERSION,
		.size		= XT_ALIGN(sizeof(struct xt_lua_info)),
		.userspacesize	= offsetof(struct xt_lua_info, priv),
		.help		= lua_mt_help,
		.print		= lua_mt_print,
		.save		= lua_mt_save,
		.x6_parse	= lua_mt_parse,
		.x6_fcheck	= lua_fcheck,
		.x6_options	= lua_mt_opts,
	},
};

/* As xtables-addons does it: a named constructor, since a global _init would clash with crti's
 * _init (iptables' own tree renames it with -D_INIT and XTABLES_INTERNAL, which is not ours). */
static __attribute__((constructor)) void lua_mt_ldr(void)
{
	xtables_register_matches(lua_mt_reg, sizeof(lua_mt_reg) / sizeof(lua_mt_reg[0]));
}
