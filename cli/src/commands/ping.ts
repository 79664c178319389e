import * as ops from '../core/ops.js';
import type { CommandDef } from './context.js';
import { callOpts } from './context.js';
import { runOnFleet, runOptions } from './fleet-run.js';

export const pingCommand: CommandDef = {
	command: 'ping',
	describe: 'check that every router of an inventory is reachable over SSH and has the nflua module (reads its version; changes nothing)',
	builder: (y) =>
		runOptions(y)
			.example('$0 ping -i routers.ini', 'a line per router that is not ok, then the recap')
			.example("$0 ping -i routers.ini --limit 'edge:!lab*' -f 50 --retry-file failed.txt", '50 at a time; failed.txt lists the routers to retry')
			.example('$0 ping -i routers.ini --json=stream --shard 3/8', 'one JSON line per router of worker 3 of 8, then the summary'),
	run(ctx, a) {
		return runOnFleet(ctx, a, 'ping', async (_inv, _host, signal, open) => {
			const t = open();
			try {
				const op = ops.version();
				const module = op.parse(await t.call(op.request, { ...callOpts(ctx), signal }));
				return { changed: false, data: { module, where: t.where } };
			} finally {
				await t.close();
			}
		});
	},
};
