/**
 * What every fleet command shares: the inventory and the hosts selected, how many at a time,
 * retries, the live progress line, one result per host (streamed with --json=stream), the
 * recap, the retry file, and the exit code (core/fleet.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FleetOutcomeError, UsageError } from '../core/errors.js';
import { fleetExitCode, runFleet, Tally, type FleetTask, type HostResult, type TaskOutcome } from '../core/fleet.js';
import { connectionOf, parseInventory, type HostConnection, type Inventory } from '../core/inventory.js';
import { inShard, parseShard, selectHosts } from '../core/hostpattern.js';
import type { Result } from '../output/results.js';
import { JumpPool, SshTransport } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';
import type { Context } from './context.js';
import { readInputFile } from './input.js';

/** Options every fleet command shares: the inventory and which of its hosts to act on. */
export function fleetOptions<T>(y: T, inventoryRequired = true): T {
	return (y as never as import('yargs').Argv)
		.option('inventory', {
			type: 'string',
			describe: 'inventory file, Ansible INI or YAML (-i after the command name)',
			...(inventoryRequired ? { demandOption: 'give the inventory with -i FILE' } : {}),
		})
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

/** The options of fleet commands besides the inventory's (added by fleetOptions). */
export function runOptions<T>(y: T, inventoryRequired = true): T {
	return (fleetOptions(y, inventoryRequired) as never as import('yargs').Argv)
		.option('forks', { alias: 'f', type: 'number', default: 10, describe: 'hosts worked on at the same time' })
		.option('retries', { type: 'number', default: 2, describe: 'extra tries for a host that could not be reached (refused, reset, timed out); not for a bad key' })
		.option('host-timeout', { type: 'number', describe: 'seconds one host may take, tries included (default: no limit beyond --timeout per step)' })
		.option('retry-file', { type: 'string', describe: 'write the names of the failed and unreachable hosts there, for --limit @FILE' })
		.option('json-stream', { type: 'boolean', hidden: true }) as never as T;
}

/** The SSH transport to one host of the inventory, with the global options as defaults. */
export function hostTransport(ctx: Context, c: HostConnection, jumps?: JumpPool): SshTransport {
	const g = ctx.globals;
	return new SshTransport({
		host: { user: c.user, host: c.host, port: c.port },
		identityFiles: [...g.identity, ...(c.identity === undefined ? [] : [c.identity])],
		knownHostsFile: g.knownHosts,
		acceptNew: g.acceptNew,
		jump: g.jump ?? c.jump,
		timeoutMs: g.timeoutMs,
		device: g.device,
		sshConfigFile: g.sshConfig,
		log: (m) => ctx.log(`${c.name}: ${m}`),
		verbose: g.verbose,
		jumps,
	});
}

function eta(seconds: number): string {
	if (!Number.isFinite(seconds)) return '?';
	if (seconds < 60) return `${Math.ceil(seconds)}s`;
	const m = Math.floor(seconds / 60);
	return m < 60 ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressLine(t: Tally, total: number): string {
	const secs = (Date.now() - t.started) / 1000;
	const rate = secs > 0 ? t.done / secs : 0;
	const w = String(total).length;
	return `[${String(t.done).padStart(w)}/${total}] ok ${t.ok}  changed ${t.changed}  failed ${t.failed}  unreachable ${t.unreachable}  ${rate.toFixed(1)}/s  ETA ${t.done === 0 ? '?' : eta((total - t.done) / rate)}`;
}

/** A fleet command's work on one host; `open` gives its SSH transport (jump connections shared). */
export type HostTask = (inv: Inventory, host: string, signal: AbortSignal, open: () => SshTransport) => Promise<TaskOutcome>;

/** Runs task on the selected hosts and yields the results as the command's output. */
export async function* runOnFleet(ctx: Context, a: Record<string, unknown>, command: string, task: HostTask,
	prepare?: (inv: Inventory, hosts: readonly string[]) => void): AsyncGenerator<Result> {
	const inv = await loadInventory(String(a.inventory));
	const hosts = selected(inv, a);
	for (const h of hosts) connectionOf(inv, h);	/* every host's settings checked before any is touched */
	prepare?.(inv, hosts);
	const jumps = new JumpPool();
	try {
		yield* runOnHosts(ctx, a, command, hosts, (h, signal) => task(inv, h, signal, () => hostTransport(ctx, connectionOf(inv, h), jumps)));
	} finally {
		await jumps.close();
	}
}

/**
 * Runs task on hosts (names: inventory names, or the one target of the global options) with
 * the run options of runOptions, and yields the results as the command's output.
 */
export async function* runOnHosts(ctx: Context, a: Record<string, unknown>, command: string, hosts: readonly string[], task: FleetTask): AsyncGenerator<Result> {
	const forks = Number(a.forks ?? 10);
	const retries = Number(a.retries ?? 2);
	if (!Number.isInteger(forks) || forks < 1 || forks > 10000) throw new UsageError(`--forks ${String(a.forks)}: give a whole number from 1 to 10000`);
	if (!Number.isInteger(retries) || retries < 0 || retries > 100) throw new UsageError(`--retries ${String(a.retries)}: give a whole number from 0 to 100`);
	const hostTimeout = a['host-timeout'] === undefined ? undefined : Number(a['host-timeout']);
	if (hostTimeout !== undefined && !(hostTimeout > 0)) throw new UsageError(`--host-timeout ${String(a['host-timeout'])}: give a number of seconds`);
	const stream = a['json-stream'] === true;
	const tally = new Tally();
	const kept: HostResult[] = [];
	/* results go from runFleet's callbacks to this generator through a queue */
	const queue: HostResult[] = [];
	let wake: (() => void) | undefined;
	let finished = false;
	let failure: unknown;
	const draw = (): void => ctx.progress(progressLine(tally, hosts.length));
	const ticker = setInterval(draw, 250);
	draw();
	const run = runFleet(hosts, task, {
		forks,
		retries,
		hostTimeoutMs: hostTimeout === undefined ? undefined : hostTimeout * 1000,
		signal: ctx.signal,
		onResult: (r) => {
			tally.add(r);
			if (!stream) kept.push(r);
			queue.push(r);
			wake?.();
		},
	}).then(
		() => {
			finished = true;
			wake?.();
		},
		(e: unknown) => {
			failure = e;
			finished = true;
			wake?.();
		},
	);
	try {
		for (;;) {
			const r = queue.shift();
			if (r !== undefined) {
				if (stream || (!ctx.globals.json && r.status !== 'ok')) yield { kind: 'fleet-host', result: r };
				draw();
				continue;
			}
			if (finished) break;
			await new Promise<void>((resolve) => {
				wake = resolve;
			});
			wake = undefined;
		}
		await run;
	} finally {
		clearInterval(ticker);
		ctx.progress(null);
	}
	if (failure !== undefined) throw failure;
	let retryFile: string | undefined;
	if (typeof a['retry-file'] === 'string' && tally.retry.length > 0) {
		retryFile = a['retry-file'];
		try {
			writeFileSync(retryFile, `${tally.retry.join('\n')}\n`);
		} catch (e) {
			throw new UsageError(`cannot write retry file '${retryFile}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
		}
	}
	const summary = tally.summary();
	const order = new Map(hosts.map((h, i) => [h, i]));
	kept.sort((x, y) => (order.get(x.host) ?? 0) - (order.get(y.host) ?? 0));
	yield { kind: 'fleet', command, summary, ...(stream ? {} : { hosts: kept }), ...(retryFile === undefined ? {} : { retryFile }) };
	const code = fleetExitCode(summary);
	if (code !== 0) {
		const parts = [summary.failed ? `${summary.failed} failed` : '', summary.unreachable ? `${summary.unreachable} unreachable` : '', summary.changed ? `${summary.changed} changed` : ''].filter((p) => p !== '');
		throw new FleetOutcomeError(code, `${parts.join(', ')} of ${summary.hosts} host${summary.hosts === 1 ? '' : 's'}`,
			retryFile === undefined && tally.retry.length > 0 ? '--retry-file FILE writes their names, for --limit @FILE' : undefined);
	}
}
