import * as ops from '../core/ops.js';
import { parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';

export const destroyCommand: CommandDef = {
	command: 'destroy <name>',
	describe: 'close a state and free it (refused while iptables rules use it)',
	builder: (y) => y.positional('name', { type: 'string', describe: 'state name' }).example('$0 destroy web', ''),
	async *run(ctx, a) {
		const name = parseStateName(String(a.name));
		const op = ops.destroy(name);
		op.parse(await ctx.transport().call(op.request, callOpts(ctx)));
		yield { kind: 'done', action: 'destroy', state: name };
	},
};
