import * as ops from '../core/ops.js';
import { CLI_VERSION } from '../version.js';
import { callOpts, type CommandDef } from './context.js';

export const versionCommand: CommandDef = {
	command: 'version',
	describe: "print this tool's version and the module's",
	builder: (y) => y.example('$0 version', 'nfluactl 0.1.0 / nflua 0.1.0 lua 5.4.7').example('$0 --host root@192.168.1.1 version --json', ''),
	async *run(ctx) {
		const t = ctx.transport();
		const op = ops.version();
		const module = op.parse(await t.call(op.request, callOpts(ctx)));
		yield { kind: 'version', cli: CLI_VERSION, module, where: t.where };
	},
};
