import { KernelError, UsageError } from '../core/errors.js';
import * as ops from '../core/ops.js';
import { parseStateName } from '../core/validate.js';
import { callOpts, type CommandDef } from './context.js';

export const receiveCommand: CommandDef = {
	command: 'receive <name>',
	describe: 'print messages scripts queued with nflua.send(), waiting for them',
	builder: (y) =>
		y
			.positional('name', { type: 'string', describe: 'state name' })
			.option('follow', { type: 'boolean', describe: 'keep waiting and printing until interrupted (Ctrl-C)' })
			.option('nonblock', { type: 'boolean', describe: 'do not wait: exit 1 if nothing is queued' })
			.example('$0 receive web', 'wait for messages, print what is queued, exit')
			.example('$0 --host router receive web --follow --json', 'one JSON object per message, until Ctrl-C'),
	async *run(ctx, a) {
		const name = parseStateName(String(a.name));
		const t = ctx.transport();
		const nonblock = a.nonblock === true;
		if (nonblock && a.follow === true) throw new UsageError('--follow and --nonblock exclude each other');
		if (nonblock && !t.supportsNonblock) {
			// no O_NONBLOCK through the bridge: look at the queue first, as the sh tool does
			const st = ops.stats(name);
			if (st.parse(await t.call(st.request, callOpts(ctx))).queued === 0) {
				throw new KernelError(11, 'EAGAIN', 'would-block', 'no message queued');
			}
		}
		do {
			const op = ops.receive(name);
			let msgs: Uint8Array[];
			try {
				msgs = op.parse(await t.call(op.request, { signal: ctx.signal, nonblock }));
			} catch (e) {
				if (ctx.signal.aborted) return;
				if (e instanceof KernelError && e.reason === 'would-block') e.message = 'no message queued';
				throw e;
			}
			for (const m of msgs) yield { kind: 'message', state: name, message: m };
		} while (a.follow === true && !ctx.signal.aborted);
	},
};
