import { connectionOf, groupsOf, varsOf } from '../core/inventory.js';
import { fleetOptions, hostTransport, loadInventory, selected } from './fleet-run.js';
import type { InventoryHost } from '../output/results.js';
import type { CommandDef } from './context.js';

export const inventoryCommand: CommandDef = {
	command: 'inventory',
	describe: 'show the hosts of an inventory (Ansible INI or YAML) as fleet commands will reach them',
	builder: (y) =>
		fleetOptions(y)
			.option('list', { type: 'boolean', describe: 'list the selected hosts (the default)' })
			.example('$0 inventory -i routers.ini', 'NAME HOST PORT USER JUMP GROUPS, one host a line')
			.example("$0 inventory -i routers.ini --limit 'edge:!edge-07' --json", 'hosts with their groups, variables and connection')
			.example('$0 inventory -i routers.ini --shard 3/8', "worker 3 of 8's hosts"),
	async *run(ctx, a) {
		const inv = await loadInventory(String(a.inventory));
		const hosts: InventoryHost[] = selected(inv, a).map((name) => {
			const c = connectionOf(inv, name);
			/* as the SSH transport resolves it (ssh config, defaults); nothing is connected */
			const e = hostTransport(ctx, c).endpoint;
			return {
				name,
				groups: groupsOf(inv, name),
				vars: varsOf(inv, name),
				connection: { host: e.host, port: e.port, user: e.user, identity: c.identity ?? null, jump: e.jump ?? null },
				ignored: c.ignored,
			};
		});
		yield { kind: 'inventory', hosts, total: inv.hosts.length };
	},
};
