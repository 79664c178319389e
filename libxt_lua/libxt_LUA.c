// SPDX-License-Identifier: GPL-2.0
/*
 * libxt_LUA.so: iptables/ip6tables target "LUA" of nflua.ko (struct xt_lua_info, xt_lua.h).
 * The function returns the verdict ("accept", "drop", "reset", "continue": docs/lua-api.md).
 *
 *   iptables -A FORWARD -p tcp --dport 443 -j LUA --state tls --function verdict
 *
 * No .xlate on purpose: nftables has no statement that calls into a Lua state, so there is
 * nothing to translate to; iptables-nft carries the rule through nft_compat unchanged.
 * Not to be confused with xtables-addons' LUA target (packetscript): same name, other module.
 */
#include <stddef.h>
#include <stdio.h>
#include <xtables.h>
#include <xt_lua.h>
#include "libxt_lua.h"

static void lua_tg_help(void)
{
	printf(
"LUA target options:\n"
"  --state NAME          Lua state to run (created with \"nfluactl create NAME\")\n"
"  --function NAME       global function of the state, called with the packet;\n"
"                        it returns the verdict: \"accept\", \"drop\", \"reset\" or\n"
"                        \"continue\" (errors and other results continue too)\n"
"Example:\n"
"  iptables -A FORWARD -p tcp --dport 443 -j LUA --state tls --function verdict\n");
}

#define s struct xt_lua_info
static const struct xt_option_entry lua_tg_opts[] = {
	{.name = "state", .id = O_STATE, .type = XTTYPE_STRING,
	 .flags = XTOPT_MAND | XTOPT_PUT, XTOPT_POINTER(s, state)},
	{.name = "function", .id = O_FUNCTION, .type = XTTYPE_STRING,
	 .flags = XTOPT_MAND | XTOPT_PUT, XTOPT_POINTER(s, function)},
	XTOPT_TABLEEND,
};
#undef s

static void lua_tg_print(const void *ip, const struct xt_entry_target *target, int numeric)
{
	(void)ip;
	(void)numeric;
	printf(" LUA");
	lua_dump((const struct xt_lua_info *)target->data, "");
}

static void lua_tg_save(const void *ip, const struct xt_entry_target *target)
{
	(void)ip;
	lua_dump((const struct xt_lua_info *)target->data, "--");
}

/* IPv4 and IPv6 only, as the kernel registers them: the bridge and ARP families (ebtables,
 * arptables) give verdicts other meanings. */
static struct xtables_target lua_tg_reg[] = {
	{
		.name		= "LUA",
		.revision	= 0,
		.family		= NFPROTO_IPV4,
		.version	= XTABLES_VERSION,
		.size		= XT_ALIGN(sizeof(struct xt_lua_info)),
		.userspacesize	= offsetof(struct xt_lua_info, priv),
		.help		= lua_tg_help,
		.print		= lua_tg_print,
		.save		= lua_tg_save,
		.x6_parse	= lua_parse,
		.x6_fcheck	= lua_fcheck,
		.x6_options	= lua_tg_opts,
	},
	{
		.name		= "LUA",
		.revision	= 0,
		.family		= NFPROTO_IPV6,
		.version	= XTABLES_VERSION,
		.size		= XT_ALIGN(sizeof(struct xt_lua_info)),
		.userspacesize	= offsetof(struct xt_lua_info, priv),
		.help		= lua_tg_help,
		.print		= lua_tg_print,
		.save		= lua_tg_save,
		.x6_parse	= lua_parse,
		.x6_fcheck	= lua_fcheck,
		.x6_options	= lua_tg_opts,
	},
};

/* A named constructor, as in libxt_lua.c. */
static __attribute__((constructor)) void lua_tg_ldr(void)
{
	xtables_register_targets(lua_tg_reg, sizeof(lua_tg_reg) / sizeof(lua_tg_reg[0]));
}
