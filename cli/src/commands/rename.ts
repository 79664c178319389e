import * as ops from '../core/ops.js';
import { parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';

export const renameCommand: CommandDef = {
	command: 'rename <from> <to>',
	describe: 'give the state FROM the name TO (the two exchange names if TO exists)',
	builder: (y) =>
		y
			.positional('from', { type: 'string', describe: 'state name' })
			.positional('to', { type: 'string', describe: 'new name' })
			.example('$0 rename web~new web', 'put a state loaded under a temporary name in place of web'),
	async *run(ctx, a) {
		const from = parseStateName(String(a.from));
		const to = parseStateName(String(a.to));
		const op = ops.rename(from, to);
		op.parse(await ctx.transport().call(op.request, callOpts(ctx)));
		yield { kind: 'done', action: 'rename', state: from, to };
	},
};
