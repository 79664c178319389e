// SPDX-License-Identifier: GPL-2.0
/*
 * xtables match "lua" and target "LUA" (include/uapi/xt_lua.h): hand a packet to a Lua
 * function of a named state. checkentry finds the state and takes a reference that the rule
 * holds until destroy; match and target allocate nothing themselves and run under the
 * state's lock with its instruction budget. Registered for IPv4 and IPv6 only: the bridge and
 * ARP families give verdicts other meanings (XT_CONTINUE is EBT_ACCEPT; legacy ebtables reads
 * NF_DROP/NF_ACCEPT as chain offsets) and carry packets the packet object cannot parse.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/netfilter/x_tables.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "xt_lua.h"
#include "nflua.h"
#include "nflua_libc.h"
#include "netns.h"
#include "packet.h"
#include "state.h"
#include "tcpreply.h"
#include "xt_lua_glue.h"

static bool xt_lua_function_valid(const char *f)
{
	size_t i, n = strnlen(f, XT_LUA_FUNC_SIZE);

	if (n == 0 || n == XT_LUA_FUNC_SIZE || (f[0] >= '0' && f[0] <= '9'))
		return false;
	for (i = 0; i < n; i++)	/* ASCII only, as Lua's lexer (the kernel's isalnum is Latin-1) */
		if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= 'A' && f[i] <= 'Z') ||
		      (f[i] >= '0' && f[i] <= '9') || f[i] == '_'))
			return false;
	return true;
}

static int xt_lua_check(struct net *net, struct xt_lua_info *info, bool is_target)
{
	struct nflua_state *s;
	size_t n = strnlen(info->state, XT_LUA_NAME_SIZE);

	if (n == XT_LUA_NAME_SIZE || !nflua_name_valid(info->state, n)) {
		pr_info_ratelimited("lua: invalid state name\n");
		return -EINVAL;
	}
	if (!xt_lua_function_valid(info->function)) {
		pr_info_ratelimited("lua: invalid function name\n");
		return -EINVAL;
	}
	if (info->flags & ~XT_LUA_FLAGS || (is_target && info->flags)) {
		pr_info_ratelimited("lua: unknown flags 0x%x\n", info->flags);
		return -EINVAL;
	}
	s = nflua_netns_rule_get(net, info->state);
	if (!s) {
		pr_info_ratelimited("lua: no state named '%s' in this network namespace\n",
				    info->state);
		return -ENOENT;
	}
	info->priv = s;
	return 0;
}

static int xt_lua_mt_check(const struct xt_mtchk_param *par)
{
	return xt_lua_check(par->net, par->matchinfo, false);
}

static int xt_lua_tg_check(const struct xt_tgchk_param *par)
{
	return xt_lua_check(par->net, par->targinfo, true);
}

static void xt_lua_mt_destroy(const struct xt_mtdtor_param *par)
{
	const struct xt_lua_info *info = par->matchinfo;

	nflua_state_forget_function(info->priv, info->function);
	nflua_netns_rule_put(info->priv);
}

static void xt_lua_tg_destroy(const struct xt_tgdtor_param *par)
{
	const struct xt_lua_info *info = par->targinfo;

	nflua_state_forget_function(info->priv, info->function);
	nflua_netns_rule_put(info->priv);
}

static bool xt_lua_mt(const struct sk_buff *skb, struct xt_action_param *par)
{
	const struct xt_lua_info *info = par->matchinfo;
	struct nflua_packet p;
	unsigned long outer;
	int match;

	/* the match does not change the packet; marks are metadata, which -j MARK changes too */
	if (!nflua_packet_init(&p, (struct sk_buff *)skb, par))
		return false;
	if ((info->flags & XT_LUA_TCP_PAYLOAD) && !nflua_packet_has_tcp_payload(&p))
		return false;	/* a precondition, not inverted by '!' */
	outer = nflua_cstack_outer_begin();
	match = nflua_state_match(info->priv, info->function, &p);
	nflua_tcpreply_finish(&p);
	nflua_cstack_outer_end(outer);
	if (match < 0)
		return false;	/* errors never match, inverted or not: the rule fails open */
	return match ^ !!(info->flags & XT_LUA_INVERT);
}

static void xt_lua_send_reset(struct sk_buff *skb, const struct xt_action_param *par)
{
	struct net *net = xt_net(par);

	if (xt_family(par) == NFPROTO_IPV4)
		nf_send_reset(net, par->state->sk, skb, xt_hooknum(par));
#if IS_ENABLED(CONFIG_IPV6)
	else
		nf_send_reset6(net, par->state->sk, skb, xt_hooknum(par));
#endif
}

static unsigned int xt_lua_tg(struct sk_buff *skb, const struct xt_action_param *par)
{
	const struct xt_lua_info *info = par->targinfo;
	struct nflua_packet p;
	unsigned int verdict;
	unsigned long outer;
	bool replied;

	if (!nflua_packet_init(&p, skb, par))
		return XT_CONTINUE;
	outer = nflua_cstack_outer_begin();
	verdict = nflua_state_target(info->priv, info->function, &p);
	replied = p.reply && !p.failed;
	nflua_tcpreply_finish(&p);	/* queues the reply, or frees it if the call failed */
	if (p.failed) {
		verdict = XT_CONTINUE;	/* an error voids pkt:reset() and pkt:tcpreply() too */
	} else if (p.verdict_reset) {
		/* an absolute verdict: the reset may be sent from here, as REJECT does; a reply
		 * already closes the connection with its FIN */
		if (!replied)
			xt_lua_send_reset(skb, par);
		verdict = NF_DROP;
	}
	nflua_cstack_outer_end(outer);
	return verdict;
}

static struct xt_match xt_lua_matches[] __read_mostly = {
	{
		.name = "lua",
		.revision = 0,
		.family = NFPROTO_IPV4,
		.checkentry = xt_lua_mt_check,
		.destroy = xt_lua_mt_destroy,
		.match = xt_lua_mt,
		.matchsize = sizeof(struct xt_lua_info),
		.usersize = offsetof(struct xt_lua_info, priv),
		.me = THIS_MODULE,
	},
	{
		.name = "lua",
		.revision = 0,
		.family = NFPROTO_IPV6,
		.checkentry = xt_lua_mt_check,
		.destroy = xt_lua_mt_destroy,
		.match = xt_lua_mt,
		.matchsize = sizeof(struct xt_lua_info),
		.usersize = offsetof(struct xt_lua_info, priv),
		.me = THIS_MODULE,
	},
};

static struct xt_target xt_lua_targets[] __read_mostly = {
	{
		.name = "LUA",
		.revision = 0,
		.family = NFPROTO_IPV4,
		.checkentry = xt_lua_tg_check,
		.destroy = xt_lua_tg_destroy,
		.target = xt_lua_tg,
		.targetsize = sizeof(struct xt_lua_info),
		.usersize = offsetof(struct xt_lua_info, priv),
		.me = THIS_MODULE,
	},
	{
		.name = "LUA",
		.revision = 0,
		.family = NFPROTO_IPV6,
		.checkentry = xt_lua_tg_check,
		.destroy = xt_lua_tg_destroy,
		.target = xt_lua_tg,
		.targetsize = sizeof(struct xt_lua_info),
		.usersize = offsetof(struct xt_lua_info, priv),
		.me = THIS_MODULE,
	},
};

/*
 * xtables-addons' xt_LUA (OpenWrt's kmod-ipt-lua) registers a target "LUA", revision 0, for
 * all families. x_tables does not refuse a second registration of a name and revision: one
 * would silently shadow the other (rules of either would run the wrong code). Refuse to load
 * instead, before registering anything, naming the other module. (The packages declare
 * CONFLICTS; this covers a module loaded by hand. A registration racing with ours in the
 * window between this check and xt_register_* is not covered.)
 */
static int xt_lua_taken(void)
{
	static const u8 families[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
	size_t i;
	int err;

	/*
	 * xt_find_revision() looks in the family's list, then in NFPROTO_UNSPEC's; it loads no
	 * module and takes no reference (xt_find_target is not exported). 1 with err >= 0: this
	 * exact revision is registered.
	 */
	for (i = 0; i < ARRAY_SIZE(families); i++) {
		if (xt_find_revision(families[i], "LUA", 0, 1, &err) && err >= 0) {
			pr_err("an xt target LUA revision 0 is already registered (xtables-addons' xt_LUA, kmod-ipt-lua?): not loading; unload that module first, the two cannot be loaded together\n");
			return -EBUSY;
		}
		if (xt_find_revision(families[i], "lua", 0, 0, &err) && err >= 0) {
			pr_err("an xt match lua revision 0 is already registered by another module: not loading\n");
			return -EBUSY;
		}
	}
	return 0;
}

int nflua_xt_init(void)
{
	int err = xt_lua_taken();

	if (err)
		return err;
	err = xt_register_matches(xt_lua_matches, ARRAY_SIZE(xt_lua_matches));
	if (err)
		return err;
	err = xt_register_targets(xt_lua_targets, ARRAY_SIZE(xt_lua_targets));
	if (err)
		goto err_unregister_matches;
	return 0;

err_unregister_matches:
	xt_unregister_matches(xt_lua_matches, ARRAY_SIZE(xt_lua_matches));
	return err;
}

void nflua_xt_exit(void)
{
	xt_unregister_targets(xt_lua_targets, ARRAY_SIZE(xt_lua_targets));
	xt_unregister_matches(xt_lua_matches, ARRAY_SIZE(xt_lua_matches));
}

MODULE_ALIAS("ipt_lua");
MODULE_ALIAS("ip6t_lua");
MODULE_ALIAS("ipt_LUA");
MODULE_ALIAS("ip6t_LUA");
