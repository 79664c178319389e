import { listArgv, parseRuleList, parseTable, type Backend, type LuaRule, type Table } from '../core/rules.js';
import { parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';
import { familyOptions, families, lastLine, noIptables, resolveIptables } from './rule-common.js';
import { CommandFailedError } from '../core/errors.js';

export const ruleListCommand: CommandDef = {
	command: 'list [chain]',
	describe: 'list the iptables rules that call Lua states',
	builder: (y) =>
		familyOptions(y)
			.positional('chain', { type: 'string', describe: 'only this chain' })
			.option('state', { type: 'string', describe: 'only rules of this state' })
			.example('$0 rule list', 'IPv4 and IPv6, tables filter, mangle and raw')
			.example('$0 rule list FORWARD --state web --json', ''),
	async *run(ctx, a) {
		const t = ctx.transport();
		const backend = a.backend as Backend;
		const tables: Table[] = a.table === undefined ? ['filter', 'mangle', 'raw'] : [parseTable(String(a.table))];
		const state = a.state === undefined ? undefined : parseStateName(String(a.state));
		const explicit = a.ipv4 === true || a.ipv6 === true;
		const rules: LuaRule[] = [];
		for (const family of families(a, ['ipv4', 'ipv6'])) {
			const ipt = await resolveIptables(ctx, t, family, backend);
			if (ipt === undefined) {
				if (explicit || family === 'ipv4') throw noIptables(family, backend, t.where);
				continue; // no ip6tables on this router: nothing to list
			}
			for (const table of tables) {
				const argv = listArgv(ipt.command, table, a.chain === undefined ? undefined : String(a.chain));
				const r = await t.runIptables(argv, callOpts(ctx));
				if (r.code !== 0) {
					// a table the kernel does not have (raw without its module) holds no rules
					if (a.table === undefined && /does not exist|can't initialize|Table does not exist/i.test(r.stderr)) continue;
					throw new CommandFailedError(argv, r.code, `${ipt.command}: ${lastLine(r.stderr)}`);
				}
				rules.push(...parseRuleList(r.stdout, family, table).filter((x) => state === undefined || x.state === state));
			}
		}
		yield { kind: 'rule-list', rules };
	},
};
