// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stand-in for xtables-addons' xt_LUA (OpenWrt's kmod-ipt-lua), which cannot be built here:
 * it registers what that module registers and nothing else, an xt target named "LUA",
 * revision 0, for every family (NFPROTO_UNSPEC). Test only (test/vm/openwrt/o30-xt-conflict.sh):
 * nflua must refuse to load next to it.
 */
#include <linux/module.h>
#include <linux/netfilter/x_tables.h>

static unsigned int standin_tg(struct sk_buff *skb, const struct xt_action_param *par)
{
	return XT_CONTINUE;
}

static struct xt_target standin_target __read_mostly = {
	.name = "LUA",
	.revision = 0,
	.family = NFPROTO_UNSPEC,
	.target = standin_tg,
	.targetsize = 0,
	.me = THIS_MODULE,
};

static int __init standin_init(void)
{
	return xt_register_target(&standin_target);
}

static void __exit standin_exit(void)
{
	xt_unregister_target(&standin_target);
}

module_init(standin_init);
module_exit(standin_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("test stand-in for xtables-addons' xt_LUA: an xt target LUA, revision 0");
