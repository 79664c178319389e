/**
 * Running one task on many hosts: at most `forks` at a time, retries for hosts that could not
 * be reached, a per-host outcome in Ansible's four words (ok, changed, failed, unreachable),
 * and the exit code that sums a run up. Pure: the task does the I/O; results are handed to
 * `onResult` as each host ends, so memory stays flat in the inventory's size.
 */
import { ExitCode, InternalError, NfluaError, TimeoutError, type ExitCodeValue } from './errors.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable';

export interface HostError {
	readonly kind: string;
	readonly exitCode: number;
	readonly message: string;
	readonly hint?: string;
}

export interface HostResult {
	readonly host: string;
	readonly status: HostStatus;
	/** tries made (1 + retries used) */
	readonly attempts: number;
	readonly ms: number;
	readonly error?: HostError;
	/** what the task returned: its own record (e.g. the module version, a diff) */
	readonly data?: unknown;
}

export interface TaskOutcome {
	readonly changed: boolean;
	readonly data?: unknown;
}

export type FleetTask = (host: string, signal: AbortSignal) => Promise<TaskOutcome>;

export interface FleetOptions {
	readonly forks: number;
	/** extra tries for a host that was unreachable (refused, reset, timed out while connecting) */
	readonly retries: number;
	/** wait between tries, ms (doubles each time) */
	readonly retryDelayMs?: number;
	/** a whole host's time, all tries included; undefined: no limit beyond the task's own */
	readonly hostTimeoutMs?: number | undefined;
	readonly signal?: AbortSignal | undefined;
	onStart?(host: string): void;
	onResult(r: HostResult): void;
}

/** Connection-phase problems: the host was never acted on. Auth and host keys are not retried. */
const UNREACHABLE_KINDS = new Set(['unreachable', 'timeout', 'auth', 'host-key']);
const RETRIED_KINDS = new Set(['unreachable', 'timeout']);

export function hostError(e: unknown): HostError {
	const err = e instanceof NfluaError ? e : new InternalError(e instanceof Error ? e.message : String(e));
	return { kind: err.kind, exitCode: err.exitCode, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
	return new Promise((resolve) => {
		const t = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => {
			clearTimeout(t);
			resolve();
		}, { once: true });
	});
}

async function runHost(host: string, task: FleetTask, o: FleetOptions): Promise<HostResult> {
	const start = Date.now();
	const ac = new AbortController();
	const onAbort = (): void => ac.abort();
	o.signal?.addEventListener('abort', onAbort, { once: true });
	let timer: NodeJS.Timeout | undefined;
	const deadline = o.hostTimeoutMs === undefined ? undefined : new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			ac.abort();
			reject(new TimeoutError(`no result from ${host} within ${Math.round((o.hostTimeoutMs ?? 0) / 1000)} s`));
		}, o.hostTimeoutMs);
	});
	let attempts = 0;
	try {
		for (;;) {
			attempts++;
			try {
				const work = task(host, ac.signal);
				const out = await (deadline ? Promise.race([work, deadline]) : work);
				return { host, status: out.changed ? 'changed' : 'ok', attempts, ms: Date.now() - start, ...(out.data === undefined ? {} : { data: out.data }) };
			} catch (e) {
				const err = hostError(e);
				const unreachable = UNREACHABLE_KINDS.has(err.kind);
				const again = unreachable && RETRIED_KINDS.has(err.kind) && attempts <= o.retries && !ac.signal.aborted;
				/* an error may carry the host's record (apply: which policy the router is on) */
				const data = e instanceof NfluaError && 'data' in e ? (e as { data: unknown }).data : undefined;
				if (!again) return { host, status: unreachable ? 'unreachable' : 'failed', attempts, ms: Date.now() - start, error: err, ...(data === undefined ? {} : { data }) };
				await sleep((o.retryDelayMs ?? 500) * 2 ** (attempts - 1), ac.signal);
			}
		}
	} finally {
		if (timer) clearTimeout(timer);
		o.signal?.removeEventListener('abort', onAbort);
	}
}

/** Runs task on every host, `forks` at a time; resolves when all have ended (or Ctrl-C). */
export async function runFleet(hosts: readonly string[], task: FleetTask, o: FleetOptions): Promise<void> {
	if (!Number.isInteger(o.forks) || o.forks < 1) throw new InternalError(`forks must be >= 1, not ${o.forks}`);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < hosts.length && o.signal?.aborted !== true) {
			const host = hosts[next++] as string;
			o.onStart?.(host);
			o.onResult(await runHost(host, task, o));
		}
	};
	await Promise.all(Array.from({ length: Math.min(o.forks, hosts.length) }, worker));
}

/** Counts of a run, and the hosts to retry. */
export class Tally {
	ok = 0;
	changed = 0;
	failed = 0;
	unreachable = 0;
	readonly retry: string[] = [];
	readonly started = Date.now();

	add(r: Pick<HostResult, 'host' | 'status'>): void {
		this[r.status]++;
		if (r.status === 'failed' || r.status === 'unreachable') this.retry.push(r.host);
	}
	get done(): number {
		return this.ok + this.changed + this.failed + this.unreachable;
	}
	summary(): FleetSummary {
		return { hosts: this.done, ok: this.ok, changed: this.changed, failed: this.failed, unreachable: this.unreachable, seconds: Math.round((Date.now() - this.started) / 100) / 10 };
	}
}

export interface FleetSummary {
	hosts: number;
	ok: number;
	changed: number;
	failed: number;
	unreachable: number;
	seconds: number;
}

/**
 * Exit codes of fleet commands (docs/cli.md): 0 every host ok and nothing changed, 10 every
 * host ok and some changed, 11 some failed, 12 some unreachable, 13 some failed and some
 * unreachable. Usage errors and the like keep the single-router codes (2, ...).
 */
export function fleetExitCode(s: Pick<FleetSummary, 'changed' | 'failed' | 'unreachable'>): ExitCodeValue {
	if (s.failed > 0 && s.unreachable > 0) return ExitCode.FLEET_FAILED_AND_UNREACHABLE;
	if (s.failed > 0) return ExitCode.FLEET_FAILED;
	if (s.unreachable > 0) return ExitCode.FLEET_UNREACHABLE;
	return s.changed > 0 ? ExitCode.FLEET_CHANGED : ExitCode.OK;
}
