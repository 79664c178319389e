import * as ops from '../core/ops.js';
import { callOpts, type CommandDef } from './context.js';

export const listCommand: CommandDef = {
	command: 'list',
	describe: 'list the states of this network namespace with their counters',
	builder: (y) => y.example('$0 list', 'a table: NAME MAXALLOC MEM PEAK BUDGET RULES CALLS ERRORS BUDGET_HITS').example('$0 list --json', 'an array of objects'),
	async *run(ctx) {
		const op = ops.list();
		yield { kind: 'list', states: op.parse(await ctx.transport().call(op.request, callOpts(ctx))) };
	},
};
