import { parseUint } from '../core/validate.js';
import { ruleArgv, validateRule, type Backend } from '../core/rules.js';
import type { AppliedRule } from '../output/results.js';
import { callOpts, type CommandDef } from './context.js';
import { families, noIptables, resolveIptables, ruleFromArgs, ruleOptions, runChecked } from './rule-common.js';

export const ruleAddCommand: CommandDef = {
	command: 'add <chain>',
	describe: 'add an iptables rule that calls a Lua function (nothing happens if it is already there)',
	builder: (y) =>
		ruleOptions(y)
			.option('insert', { type: 'string', describe: 'insert at this position (1 = first) instead of appending' })
			.example('$0 rule add FORWARD --state web --function check_ua -p tcp --dport 80', 'drop what check_ua matches')
			.example('$0 rule add FORWARD --state web --verdict verdict -6', 'let verdict() decide, IPv6')
			.example('$0 rule add INPUT --state web --function allowed --not -j REJECT', ''),
	async *run(ctx, a) {
		const t = ctx.transport();
		const backend = a.backend as Backend;
		const position = a.insert === undefined ? undefined : parseUint(a.insert as string, '--insert');
		const specs = families(a, ['ipv4']).map((f) => validateRule(ruleFromArgs(a, f)));
		const applied: AppliedRule[] = [];
		for (const spec of specs) {
			const ipt = await resolveIptables(ctx, t, spec.family, backend);
			if (ipt === undefined) throw noIptables(spec.family, backend, t.where);
			const check = await t.runIptables(ruleArgv(ipt.command, 'check', spec), callOpts(ctx));
			const argv = ruleArgv(ipt.command, position === undefined ? 'append' : 'insert', spec, position);
			if (check.code === 0) {
				applied.push({ family: spec.family, command: ipt.command, backend: ipt.backend, argv, changed: false });
				continue;
			}
			await runChecked(ctx, t, argv);
			applied.push({ family: spec.family, command: ipt.command, backend: ipt.backend, argv, changed: true });
		}
		yield { kind: 'rules-applied', action: 'add', rules: applied };
	},
};
