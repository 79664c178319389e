import { UsageError } from '../core/errors.js';
import * as ops from '../core/ops.js';
import { parseSize, parseStateName, parseUint } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';

export const setCommand: CommandDef = {
	command: 'set <name>',
	describe: "change a state's budget and/or memory limit",
	builder: (y) =>
		y
			.positional('name', { type: 'string', describe: 'state name' })
			.option('budget', { type: 'string', describe: 'Lua instructions one call may run' })
			.option('maxalloc', { type: 'string', describe: 'memory limit: bytes, or with K, M, G (refused below the memory in use)' })
			.example('$0 set web --budget 500000 --maxalloc 8M', ''),
	async *run(ctx, a) {
		const name = parseStateName(String(a.name));
		const budget = a.budget === undefined ? undefined : parseUint(a.budget as string, '--budget');
		const maxalloc = a.maxalloc === undefined ? undefined : parseSize(a.maxalloc as string, '--maxalloc');
		if (budget === undefined && maxalloc === undefined) throw new UsageError('set needs --budget and/or --maxalloc');
		const op = ops.set(name, { budget, maxalloc });
		op.parse(await ctx.transport().call(op.request, callOpts(ctx)));
		yield { kind: 'done', action: 'set', state: name };
	},
};
