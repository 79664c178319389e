/**
 * `nfluactl apply POLICY`: makes routers run a policy (docs/policy.md). Per router: the policy
 * and the router's variables compiled into the bundle, one SSH connection, one exec of the
 * router's `nfluactl apply` with the bundle as a tar on stdin, its records parsed. The router's
 * transaction does the switch and the rollback; this side reports what happened. On the
 * target of the global options (--host, or this machine), or on an inventory's routers (-i).
 */
import { dirname, resolve } from 'node:path';
import { bundleTar, changeText, parseApplyOutput, routerApplyArgv, type ApplyReport } from '../core/apply.js';
import { ApplyFailedError, ModuleMissingError, NfluaError, ProtocolError, TimeoutError, UnreachableError, UsageError } from '../core/errors.js';
import type { TaskOutcome } from '../core/fleet.js';
import { varsOf } from '../core/inventory.js';
import { compilePolicy, hostVars, HOST_VARS_KEY, parsePolicy, type Policy } from '../core/policy.js';
import type { Transport } from '../transport/types.js';
import type { CommandDef, Context } from './context.js';
import { runOnFleet, runOnHosts, runOptions } from './fleet-run.js';
import { readInputFile } from './input.js';

/** Which policy a router is on after the run: `old` (nothing changed, or rolled back), `new`, or not known. */
export type PolicyNow = 'old' | 'new' | 'unknown';

/** A router's record in the recap and in --json (HostResult.data). */
export interface ApplyData {
	/** the router's result line, or "lost" when the connection was lost after the bundle was sent */
	readonly result: string;
	readonly policy: PolicyNow;
	/** "state web replace", "rules ipv4 filter forward", "file /etc/config/nflua" */
	readonly changes: string[];
	readonly diff?: string[];
	readonly errors?: string[];
	/** the connection was lost after the bundle went out; a --check on a new connection found `policy` */
	readonly reconnected?: boolean;
}

interface Loaded {
	readonly policy: Policy;
	readonly file: string;
	readonly scripts: Map<string, Uint8Array>;
}

async function loadPolicy(file: string): Promise<Loaded> {
	const text = new TextDecoder('utf-8', { fatal: false }).decode(await readInputFile(file));
	const policy = parsePolicy(text, file);
	const scripts = new Map<string, Uint8Array>();
	for (const [i, s] of policy.states.entries()) {
		for (const [j, f] of s.scripts.entries()) {
			if (scripts.has(f)) continue;
			try {
				scripts.set(f, await readInputFile(resolve(dirname(file), f)));
			} catch (e) {
				throw new UsageError(`${file}: states[${i}].scripts[${j}]: ${(e as Error).message}`);
			}
		}
	}
	return { policy, file, scripts };
}

/** The tar of one router's bundle; routers with the same variables share it (bounded cache). */
class Bundles {
	private readonly cache = new Map<string, Promise<Buffer>>();
	constructor(private readonly p: Loaded) {}

	/** Checks a router's variables (before any router is touched) and returns its cache key. */
	key(inventoryVars: unknown, where: string): string {
		hostVars(this.p.policy, inventoryVars, where);
		return JSON.stringify(inventoryVars ?? null);
	}

	tar(inventoryVars: unknown, where: string): Promise<Buffer> {
		const key = this.key(inventoryVars, where);
		let t = this.cache.get(key);
		if (t === undefined) {
			const vars = hostVars(this.p.policy, inventoryVars, where);
			t = bundleTar(compilePolicy(this.p.policy, vars, (f) => this.p.scripts.get(f) as Uint8Array));
			if (this.cache.size >= 64) this.cache.delete(this.cache.keys().next().value as string);
			this.cache.set(key, t);
		}
		return t;
	}
}

function reportData(r: ApplyReport, policy: PolicyNow, diff: boolean): ApplyData {
	return {
		result: r.result,
		policy,
		changes: r.changes.map(changeText),
		...(diff ? { diff: r.diff } : {}),
		...(r.errors.length > 0 ? { errors: r.errors } : {}),
	};
}

function lastLines(s: string, n = 5): string {
	return s.trim().split('\n').slice(-n).join(' | ');
}

/** What the router's exit status and records mean (interface section 3). */
function outcome(code: number | null, stdout: string, stderr: string, where: string, o: { check: boolean; diff: boolean }): TaskOutcome {
	if (code === 126 || code === 127) {
		throw new ApplyFailedError(`${where}: cannot run /usr/sbin/nfluactl: ${lastLines(stderr) || `exit ${code}`}`, { result: 'failed', policy: 'old', changes: [] },
			'install the nfluactl package of this release on the router');
	}
	if (code === 3) throw new ModuleMissingError(`${where}: /dev/nflua does not exist`, 'is the nflua module loaded? (on the router: modprobe nflua)');
	let r: ApplyReport | undefined;
	try {
		r = parseApplyOutput(stdout, where);
	} catch (e) {
		if (code === 0 || code === null) {
			if (e instanceof ProtocolError && stderr.trim() !== '') e.message += ` (stderr: ${lastLines(stderr)})`;
			throw e;
		}
	}
	const why = (fallback: string): string => (r !== undefined && r.errors.length > 0 ? r.errors.join('; ') : lastLines(stderr) || fallback);
	switch (code) {
		case 0: {
			const rep = r as ApplyReport;
			if (rep.result === 'failed') throw new ProtocolError(`${where}: nfluactl apply said 'failed' with exit status 0`);
			/* ok: the router already runs this policy (with --check too); would-change: not yet */
			return { changed: rep.result !== 'ok', data: reportData(rep, rep.result === 'would-change' ? 'old' : 'new', o.diff) };
		}
		case 1:
			throw new ApplyFailedError(`${why('failed')} (rolled back: the router runs its previous policy)`,
				r === undefined ? { result: 'failed', policy: 'old', changes: [] } : reportData(r, 'old', o.diff));
		case 2:
			throw new ApplyFailedError(`the router refused the bundle: ${why('bad usage or bad bundle')} (nothing was touched)`, { result: 'failed', policy: 'old', changes: [] });
		case 4:
			throw new ApplyFailedError(`ROLLBACK FAILED: ${why('rollback failed')}: the router may be between policies`,
				r === undefined ? { result: 'failed', policy: 'unknown', changes: [] } : reportData(r, 'unknown', o.diff),
				'look at the router (nfluactl list, iptables -S), then apply again');
		default:
			throw new ProtocolError(`${where}: nfluactl apply ended with status ${code ?? 'none'}: ${lastLines(stderr) || 'no message'}`);
	}
}

/**
 * One router: the bundle on one connection. A connection lost (or a --timeout) after the whole
 * bundle was sent leaves the router on the old or the new policy (its transaction goes on, or
 * rolls back, by itself): one more connection runs `--check` with the same bundle to tell which
 * (the router's lock makes it wait for the end of the transaction).
 */
export async function applyOne(open: () => Transport, tar: Buffer, o: { check: boolean; diff: boolean }, timeoutMs: number, signal: AbortSignal): Promise<TaskOutcome> {
	const t = open();
	let lost: UnreachableError | TimeoutError;
	try {
		const res = await t.runCommand(routerApplyArgv(o), tar, { timeoutMs, signal });
		return outcome(res.code, res.stdout, res.stderr, t.where, o);
	} catch (e) {
		if (!(e instanceof UnreachableError || e instanceof TimeoutError) || !e.inputSent || o.check) throw e;
		lost = e;
	} finally {
		await t.close();
	}
	const again = open();
	try {
		const res = await again.runCommand(routerApplyArgv({ check: true, diff: false }), tar, { timeoutMs, signal });
		const r = outcome(res.code, res.stdout, res.stderr, again.where, { check: true, diff: false });
		const data = r.data as ApplyData;
		if (!r.changed) return { changed: true, data: { ...data, result: 'lost', policy: 'new', reconnected: true } };
		throw new ApplyFailedError(`${lost.message} during the apply; a check on a new connection found the router on its previous policy`,
			{ ...data, result: 'lost', policy: 'old', reconnected: true });
	} catch (e) {
		if (e instanceof ApplyFailedError) throw e;
		const why = e instanceof NfluaError ? e.message : String(e);
		throw new ApplyFailedError(`${lost.message} during the apply, and the check afterwards failed (${why}): the router is on its old or its new policy, not known which`,
			{ result: 'lost', policy: 'unknown', changes: [] }, 'run nfluactl apply --check again to find out');
	} finally {
		await again.close();
	}
}

export const applyCommand: CommandDef = {
	command: 'apply <policy>',
	describe: 'make routers run a policy (docs/policy.md): its states, Lua files and rules, switched in one transaction per router and kept across reboots',
	builder: (y) =>
		runOptions(y, false)
			.positional('policy', { type: 'string', describe: 'the policy file, YAML or JSON (Lua file paths relative to it)' })
			.option('check', { type: 'boolean', default: false, describe: 'dry run: report what would change, change nothing' })
			.option('diff', { type: 'boolean', default: false, describe: "show the differences of the router's files (config and Lua), old vs new" })
			.example('$0 --host root@192.168.1.1 apply policy.yaml', 'one router')
			.example('$0 apply policy.yaml -i routers.ini --check --diff', 'what would change on each router, with the differences')
			.example('$0 apply policy.yaml -i routers.ini -f 50 --limit edge --retry-file failed.txt', '50 routers at a time, those of group edge'),
	async *run(ctx, a) {
		const loaded = await loadPolicy(String(a.policy));
		const bundles = new Bundles(loaded);
		const o = { check: a.check === true, diff: a.diff === true };
		const timeoutMs = ctx.globals.timeoutMs;
		if (typeof a.inventory === 'string') {
			const where = (h: string): string => `${String(a.inventory)}: ${h}`;
			yield* runOnFleet(ctx, a, 'apply', async (inv, host, signal, open) => {
				const tar = await bundles.tar(varsOf(inv, host)[HOST_VARS_KEY], where(host));
				return applyOne(open, tar, o, timeoutMs, signal);
			}, (inv, hosts) => {
				/* every router's variables are checked before the first one is touched */
				for (const h of hosts) bundles.key(varsOf(inv, h)[HOST_VARS_KEY], where(h));
			});
			return;
		}
		if (a.limit !== undefined || a.shard !== undefined) throw new UsageError('--limit and --shard select routers of an inventory: give it with -i FILE');
		const tar = await bundles.tar(undefined, String(a.policy));
		const where = ctx.globals.host ?? 'local';
		/* a closed transport connects again on its next use (the check after a lost connection) */
		yield* runOnHosts(ctx, a, 'apply', [where], (_h, signal) => applyOne(() => ctx.transport(), tar, o, timeoutMs, signal));
	},
};
