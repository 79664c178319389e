import { UsageError } from '../core/errors.js';
import * as ops from '../core/ops.js';
import { parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';
import { readInputFile, STDIN_ARG } from './input.js';

export const sendCommand: CommandDef = {
	command: 'send <name> [data]',
	describe: "call the state's on_receive(data); prints what it returns",
	builder: (y) =>
		y
			.positional('name', { type: 'string', describe: 'state name' })
			.positional('data', { type: 'string', describe: "the data, or '-' for standard input" })
			.option('f', { type: 'string', describe: 'send the contents of FILE', requiresArg: true })
			.option('by-cpu', { type: 'boolean', describe: "each replica's results of a per-CPU state on a line of its own: cpuN<TAB>values" })
			.example("$0 send web 'block example.com'", '')
			.example('$0 send web -f blocklist.txt', ''),
	async *run(ctx, a) {
		const name = parseStateName(String(a.name));
		const data = a.data === STDIN_ARG ? '-' : (a.data as string | undefined);
		const file = a.f as string | undefined;
		if ((file === undefined) === (data === undefined)) throw new UsageError('send takes NAME and one of DATA, -f FILE or -');
		const payload = file !== undefined ? await readInputFile(file) : data === '-' ? await ctx.readStdin() : (data as string);
		if (a['by-cpu'] === true) {
			const op = ops.sendByCpu(name, payload);
			yield { kind: 'cpu-values', state: name, cpus: op.parse(await ctx.transport().call(op.request, callOpts(ctx))) };
			return;
		}
		const op = ops.send(name, payload);
		yield { kind: 'values', state: name, values: op.parse(await ctx.transport().call(op.request, callOpts(ctx))) };
	},
};
