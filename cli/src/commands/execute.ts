import { basename } from 'node:path';
import { UsageError } from '../core/errors.js';
import * as ops from '../core/ops.js';
import { parseChunkName, parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';
import { readInputFile, STDIN_ARG } from './input.js';

export const executeCommand: CommandDef = {
	command: 'execute <name> [file]',
	describe: 'load a Lua chunk (text) into a state and run it; prints what it returns, TAB-separated',
	builder: (y) =>
		y
			.positional('name', { type: 'string', describe: 'state name' })
			.positional('file', { type: 'string', describe: "Lua file, or '-' for standard input" })
			.option('e', { type: 'string', describe: 'run CODE given on the command line', requiresArg: true })
			.option('chunkname', { type: 'string', describe: 'chunk name in error messages (default: the base name of FILE, or NAME)' })
			.option('by-cpu', { type: 'boolean', describe: "each replica's results of a per-CPU state on a line of its own: cpuN<TAB>values (needs a module with per-CPU states)" })
			.example('$0 execute web check_ua.lua', 'local file, pushed over SSH with --host')
			.example(`$0 execute web -e 'return 1+1, "x"'`, 'prints "2<TAB>x"')
			.example("echo 'return collectgarbage(\"count\")' | $0 execute web -", ''),
	async *run(ctx, a) {
		const name = parseStateName(String(a.name));
		const file = a.file === STDIN_ARG ? '-' : (a.file as string | undefined);
		const code = a.e as string | undefined;
		if ((code === undefined) === (file === undefined)) throw new UsageError('execute takes NAME and one of FILE, -e CODE or -');
		let chunk: Uint8Array | string;
		let chunkName = name;
		if (code !== undefined) chunk = code;
		else if (file === '-') chunk = await ctx.readStdin();
		else {
			chunk = await readInputFile(file as string);
			chunkName = basename(file as string);
		}
		if (a.chunkname !== undefined) chunkName = parseChunkName(String(a.chunkname));
		if (a['by-cpu'] === true) {
			const op = ops.executeByCpu(name, chunkName, chunk);
			yield { kind: 'cpu-values', state: name, cpus: op.parse(await ctx.transport().call(op.request, callOpts(ctx))) };
			return;
		}
		const op = ops.execute(name, chunkName, chunk);
		yield { kind: 'values', state: name, values: op.parse(await ctx.transport().call(op.request, callOpts(ctx))) };
	},
};
