import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { connectionOf, groupsOf, parseInventory, varsOf, type Inventory } from '../core/inventory.js';
import { inShard, parseShard, selectHosts } from '../core/hostpattern.js';
import type { InventoryHost } from '../output/results.js';
import type { CommandDef } from './context.js';
import { readInputFile } from './input.js';

/** Options every fleet command shares: the inventory and which of its hosts to act on. */
export function fleetOptions<T>(y: T): T {
	return (y as never as import('yargs').Argv)
		.option('inventory', { type: 'string', describe: 'inventory file, Ansible INI or YAML (-i after the command name)', demandOption: 'give the inventory with -i FILE' })
		.option('limit', { alias: 'l', type: 'string', describe: "hosts to act on: names, groups, globs, ~regex, '&group' (also in), '!group' (not in), @retry-file; separated by ',' or ':'" })
		.option('shard', { type: 'string', describe: 'I/N: only this worker\'s stable part of the hosts (0 <= I < N), by a hash of each name' }) as never as T;
}

export async function loadInventory(file: string): Promise<Inventory> {
	const text = new TextDecoder('utf-8', { fatal: false }).decode(await readInputFile(file));
	return parseInventory(text, file);
}

/** The hosts of the inventory that --limit and --shard select, in inventory order. */
export function selected(inv: Inventory, a: Record<string, unknown>): string[] {
	let hosts = typeof a.limit === 'string' && a.limit !== '' ? selectHosts(inv, a.limit, {
		readFile: (p) => {
			try {
				return readFileSync(p, 'utf8');
			} catch (e) {
				throw new UsageError(`cannot read retry file '${p}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
			}
		},
	}) : [...inv.hosts];
	if (typeof a.shard === 'string') hosts = inShard(hosts, parseShard(a.shard));
	return hosts;
}

export const inventoryCommand: CommandDef = {
	command: 'inventory',
	describe: 'show the hosts of an inventory (Ansible INI or YAML) as fleet commands will reach them',
	builder: (y) =>
		fleetOptions(y)
			.option('list', { type: 'boolean', describe: 'list the selected hosts (the default)' })
			.example('$0 inventory -i routers.ini', 'NAME HOST PORT USER JUMP GROUPS, one host a line')
			.example("$0 inventory -i routers.ini --limit 'edge:!edge-07' --json", 'hosts with their groups, variables and connection')
			.example('$0 inventory -i routers.ini --shard 3/8', "worker 3 of 8's hosts"),
	async *run(_ctx, a) {
		const inv = await loadInventory(String(a.inventory));
		const hosts: InventoryHost[] = selected(inv, a).map((name) => {
			const c = connectionOf(inv, name);
			return {
				name,
				groups: groupsOf(inv, name),
				vars: varsOf(inv, name),
				connection: { host: c.host, port: c.port, user: c.user, identity: c.identity ?? null, jump: c.jump ?? null },
				ignored: c.ignored,
			};
		});
		yield { kind: 'inventory', hosts, total: inv.hosts.length };
	},
};
