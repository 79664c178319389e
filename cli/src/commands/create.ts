import * as ops from '../core/ops.js';
import { parseSize, parseStateName, parseUint } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';

export const createCommand: CommandDef = {
	command: 'create <name>',
	describe: 'create a Lua state',
	builder: (y) =>
		y
			.positional('name', { type: 'string', describe: "state name: 1-63 bytes of printable ASCII without space and '/'" })
			.option('maxalloc', { type: 'string', describe: 'most memory its Lua may use: bytes, or with K, M, G (default 1M; 64K-256M)' })
			.option('budget', { type: 'string', describe: 'Lua instructions one call may run (default 100000; 1000-10000000)' })
			.option('percpu', { type: 'boolean', describe: 'one Lua state per CPU: packets run on their CPU\'s, execute and send on all; maxalloc and budget are per CPU, Lua globals too' })
			.example('$0 create web --maxalloc 4M --budget 200000', '')
			.example('$0 create sni --percpu', 'a replica per CPU')
			.example('$0 --host root@192.168.1.1 create web', 'on a router, over SSH'),
	async *run(ctx, a) {
		const name = parseStateName(String(a.name));
		const maxalloc = a.maxalloc === undefined ? undefined : parseSize(a.maxalloc as string, '--maxalloc');
		const budget = a.budget === undefined ? undefined : parseUint(a.budget as string, '--budget');
		const op = ops.create(name, { maxalloc, budget, percpu: a.percpu === true });
		op.parse(await ctx.transport().call(op.request, callOpts(ctx)));
		yield { kind: 'done', action: 'create', state: name };
	},
};
