import * as ops from '../core/ops.js';
import { parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';

export const statsCommand: CommandDef = {
	command: 'stats [name]',
	describe: "counters of a state, or the module's without NAME",
	builder: (y) =>
		y
			.positional('name', { type: 'string', describe: 'state name' })
			.example('$0 stats web', 'name=web maxalloc=... one key=value per line')
			.example('$0 stats', 'states, all_states, all_mem, version'),
	async *run(ctx, a) {
		const t = ctx.transport();
		if (a.name === undefined) {
			const op = ops.moduleStats();
			yield { kind: 'stats', stats: op.parse(await t.call(op.request, callOpts(ctx))) };
			return;
		}
		const op = ops.stats(parseStateName(String(a.name)));
		yield { kind: 'stats', stats: op.parse(await t.call(op.request, callOpts(ctx))) };
	},
};
