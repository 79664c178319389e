/**
 * Renderers: human text or JSON (one document per result; `receive` gives one JSON object per
 * line). The JSON shapes are documented in docs/cli.md and tested; keep them stable.
 */
import { NfluaError, KernelError, HostKeyError, CommandFailedError } from '../core/errors.js';
import { text } from '../core/protocol.js';
import type { StateInfo } from '../core/results.js';
import type { InventoryHost, Result } from './results.js';
import type { FleetSummary, HostResult } from '../core/fleet.js';
import { simulationText } from '../core/simulate.js';

const enc = new TextEncoder();

function table(rows: string[][]): string {
	const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
	return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** The per-CPU split of a per-CPU state (the module's cpus= and cpu_calls= lists): "0:12,1:9". */
function cpuSplit(s: StateInfo): string {
	if (typeof s.cpus !== 'string' && typeof s.cpus !== 'number') return '-';
	const cpus = String(s.cpus).split(',');
	const calls = String(s.cpu_calls ?? '').split(',');
	return cpus.map((c, i) => `${c}:${calls[i] ?? '?'}`).join(',');
}

/** A column CPU_CALLS (CPU:calls of each replica) is added when a state is per CPU. */
function listTable(states: StateInfo[]): string {
	const cols = ['name', 'maxalloc', 'mem', 'peak', 'budget', 'rules', 'calls', 'errors', 'budget_hits'] as const;
	const percpu = states.some((s) => s.percpu !== undefined);
	const head = [...cols.map((c) => c.toUpperCase()), ...(percpu ? ['CPU_CALLS'] : [])];
	return table([head, ...states.map((s) => [...cols.map((c) => String(s[c])), ...(percpu ? [cpuSplit(s)] : [])])]);
}

function inventoryText(hosts: InventoryHost[], total: number): string {
	const rows = hosts.map((h) => [h.name, h.connection.host, String(h.connection.port), h.connection.user, h.connection.jump ?? '-',
		h.groups.filter((g) => g !== 'all').join(',') || '-']);
	const notes = hosts.filter((h) => h.ignored.length > 0).map((h) => `# ${h.name}: not used by nfluactl: ${h.ignored.join(', ')}\n`).join('');
	const head = hosts.length === 0 ? '' : `${table([['NAME', 'HOST', 'PORT', 'USER', 'JUMP', 'GROUPS'], ...rows])}\n`;
	return `${head}${notes}# ${hosts.length} of ${total} host${total === 1 ? '' : 's'} selected\n`;
}

/** "edge-01  unreachable  connection refused..." */
function hostLine(h: HostResult): string {
	const why = h.error === undefined ? '' : `  ${h.error.message}${h.error.hint === undefined ? '' : `; ${h.error.hint}`}`;
	const data = h.status === 'ok' || h.status === 'changed' ? dataText(h.data) : '';
	return `${h.host}  ${h.status}${data}${applyText(h)}${why}${h.attempts > 1 ? `  (${h.attempts} tries)` : ''}`;
}

function dataText(d: unknown): string {
	if (d === undefined || d === null) return '';
	if (typeof d === 'object' && 'module' in d) return `  ${String((d as { module: unknown }).module)}`;
	return '';
}

/** apply: which policy the router is on, and what changed (or would) */
function applyText(h: HostResult): string {
	const d = h.data as { policy?: unknown; changes?: unknown; result?: unknown; reconnected?: unknown } | undefined;
	if (d === undefined || d === null || typeof d !== 'object' || typeof d.policy !== 'string') return '';
	const changes = Array.isArray(d.changes) && d.changes.length > 0 ? `: ${d.changes.map(String).join(', ')}` : '';
	const policy = d.policy === 'new' ? 'new policy' : d.policy === 'old' ? 'old policy' : 'policy not known';
	const check = d.result === 'would-change' ? 'would change' : '';
	return `  [${policy}${d.reconnected === true ? ', checked after the connection was lost' : ''}]${check === '' ? '' : ` ${check}`}${h.status === 'failed' ? '' : changes}`;
}

/** apply --diff: the router's unified diff, after the host's line */
function diffText(h: HostResult): string {
	const d = h.data as { diff?: unknown } | undefined;
	if (d === undefined || d === null || typeof d !== 'object' || !Array.isArray(d.diff)) return '';
	return d.diff.map((l) => `    ${String(l)}\n`).join('');
}

/** Listed host by host up to this many; beyond, only those not ok (--json has them all). */
const RECAP_ALL_MAX = 1000;

function recapText(s: FleetSummary, hosts: HostResult[] | undefined, retryFile: string | undefined): string {
	let out = '';
	if (hosts !== undefined && hosts.length > 0) {
		const shown = hosts.length <= RECAP_ALL_MAX ? hosts : hosts.filter((h) => h.status !== 'ok');
		const w = Math.max(...shown.map((h) => h.host.length), 4);
		out += `RECAP\n${shown.map((h) => hostLine({ ...h, host: h.host.padEnd(w) })).join('\n')}${shown.length ? '\n' : ''}`;
		if (shown.length < hosts.length) out += `(${hosts.length - shown.length} hosts ok, not listed)\n`;
	}
	out += `${s.hosts} host${s.hosts === 1 ? '' : 's'}: ${s.ok} ok, ${s.changed} changed, ${s.failed} failed, ${s.unreachable} unreachable in ${s.seconds} s\n`;
	if (retryFile !== undefined) out += `retry them: --limit @${retryFile}\n`;
	return out;
}

function joinBytes(parts: Uint8Array[], sep: string, end: string): Uint8Array {
	const out: number[] = [];
	parts.forEach((p, i) => {
		if (i > 0) out.push(...enc.encode(sep));
		for (const b of p) out.push(b);
	});
	if (parts.length > 0) out.push(...enc.encode(end));
	return Uint8Array.from(out);
}

/** Human output: bytes, so Lua results are printed exactly as they are. */
export function renderHuman(r: Result): Uint8Array {
	switch (r.kind) {
		case 'version':
			return enc.encode(`nfluactl ${r.cli}\n${r.module}\n`);
		case 'done':
			return new Uint8Array();
		case 'list':
			return enc.encode(r.states.length === 0 ? '' : `${listTable(r.states)}\n`);
		case 'stats':
			return enc.encode(`${Object.entries(r.stats).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
		case 'values':
			return joinBytes(r.values, '\t', '\n');
		case 'cpu-values':
			return Uint8Array.from(r.cpus.flatMap((c) => [...joinBytes([enc.encode(c.cpu === 'all' ? 'all' : `cpu${c.cpu}`), ...c.values], '\t', '\n')]));
		case 'message':
			return joinBytes([r.message], '', '\n');
		case 'rules-applied':
			return new Uint8Array();
		case 'rule-list':
			return enc.encode(r.rules.map((x) => `${x.family} ${x.table} ${x.line}\n`).join(''));
		case 'text':
			return enc.encode(r.text);
		case 'check':
			return enc.encode(r.files.flatMap((f) => f.findings.map((x) => `${f.file}:${x.line}:${x.column}: ${x.severity}: ${x.message} [${x.code}]\n`)).join(''));
		case 'simulation':
			return enc.encode(simulationText(r.sim));
		case 'inventory':
			return enc.encode(inventoryText(r.hosts, r.total));
		case 'fleet-host':
			return enc.encode(`${hostLine(r.result)}\n${diffText(r.result)}`);
		case 'fleet':
			return enc.encode(recapText(r.summary, r.hosts, r.retryFile));
	}
}

/** The JSON value of a result (documented shapes). */
export function jsonValue(r: Result): unknown {
	switch (r.kind) {
		case 'version':
			return { cli: r.cli, module: r.module, where: r.where };
		case 'done':
			return r.to === undefined ? { action: r.action, state: r.state, ok: true } : { action: r.action, state: r.state, to: r.to, ok: true };
		case 'list':
			return r.states;
		case 'stats':
			return r.stats;
		case 'values':
			return { state: r.state, values: r.values.map(text) };
		case 'cpu-values':
			return { state: r.state, cpus: r.cpus.map((c) => ({ cpu: c.cpu, values: c.values.map(text) })) };
		case 'message':
			return { state: r.state, message: text(r.message) };
		case 'rules-applied':
			return { action: r.action, rules: r.rules };
		case 'rule-list':
			return r.rules;
		case 'text':
			return { text: r.text };
		case 'check':
			return { files: r.files, errors: r.errors, warnings: r.warnings };
		case 'simulation':
			return r.sim;
		case 'inventory':
			return { hosts: r.hosts, selected: r.hosts.length, total: r.total };
		case 'fleet-host':
			return r.result;
		case 'fleet':
			return { command: r.command, ...(r.hosts === undefined ? {} : { hosts: r.hosts }), summary: r.summary, ...(r.retryFile === undefined ? {} : { retryFile: r.retryFile }) };
	}
}

export function renderJson(r: Result): Uint8Array {
	return enc.encode(`${JSON.stringify(jsonValue(r))}\n`);
}

/** The one stderr line of a failure: "nfluactl: WHAT: WHY; WHAT TO DO". */
export function errorLine(e: NfluaError, what: string | undefined): string {
	const where = e.where !== undefined && e.where !== 'local' && e.kind === 'kernel' ? ` on ${e.where}` : '';
	const head = what === undefined || what === '' ? '' : `${what}${where}: `;
	return `nfluactl: ${head}${e.message}${e.hint === undefined ? '' : `; ${e.hint}`}`;
}

/** --json errors: {"error": {...}} on stdout, besides the stderr line. */
export function errorJson(e: NfluaError): unknown {
	const o: Record<string, unknown> = { kind: e.kind, exitCode: e.exitCode, message: e.message };
	if (e.hint !== undefined) o.hint = e.hint;
	if (e.where !== undefined) o.where = e.where;
	if (e instanceof KernelError) Object.assign(o, { errno: e.errno, errnoName: e.errnoName, reason: e.reason });
	if (e instanceof HostKeyError) o.problem = e.problem;
	if (e instanceof CommandFailedError) Object.assign(o, { argv: e.argv, status: e.status });
	return { error: o };
}
