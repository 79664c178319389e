import type { CommandDef } from './context.js';
import { ruleAddCommand } from './rule-add.js';
import { ruleDelCommand } from './rule-del.js';
import { ruleListCommand } from './rule-list.js';

/** `rule add|del|list`: its subcommands are registered by cli.ts from this list. */
export const ruleSubcommands: readonly CommandDef[] = [ruleAddCommand, ruleDelCommand, ruleListCommand];

export const ruleCommand = {
	command: 'rule',
	describe: 'add, delete and list iptables rules that call Lua (iptables or ip6tables, legacy or nft)',
} as const;
