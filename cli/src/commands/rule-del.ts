import { ruleArgv, validateRule, type Backend } from '../core/rules.js';
import type { AppliedRule } from '../output/results.js';
import type { CommandDef } from './context.js';
import { families, noIptables, resolveIptables, ruleFromArgs, ruleOptions, runChecked } from './rule-common.js';

export const ruleDelCommand: CommandDef = {
	command: 'del <chain>',
	describe: 'delete a rule given exactly as it was added',
	builder: (y) => ruleOptions(y).example('$0 rule del FORWARD --state web --function check_ua -p tcp --dport 80', ''),
	async *run(ctx, a) {
		const t = ctx.transport();
		const backend = a.backend as Backend;
		const applied: AppliedRule[] = [];
		for (const spec of families(a, ['ipv4']).map((f) => validateRule(ruleFromArgs(a, f)))) {
			const ipt = await resolveIptables(ctx, t, spec.family, backend);
			if (ipt === undefined) throw noIptables(spec.family, backend, t.where);
			const argv = ruleArgv(ipt.command, 'delete', spec);
			await runChecked(ctx, t, argv);
			applied.push({ family: spec.family, command: ipt.command, backend: ipt.backend, argv, changed: true });
		}
		yield { kind: 'rules-applied', action: 'del', rules: applied };
	},
};
