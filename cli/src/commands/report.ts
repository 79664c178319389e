import { FleetOutcomeError, UsageError } from '../core/errors.js';
import { fleetExitCode, Tally, type HostResult, type HostStatus } from '../core/fleet.js';
import type { CommandDef } from './context.js';
import { readInputFile } from './input.js';

const STATUSES: readonly HostStatus[] = ['ok', 'changed', 'failed', 'unreachable'];

function isHostResult(v: unknown): v is HostResult {
	const h = v as HostResult;
	return typeof v === 'object' && v !== null && typeof h.host === 'string' && STATUSES.includes(h.status);
}

/** The host records of one result file: a --json document, or --json=stream lines. */
export function hostsOfResultFile(text: string, file: string): { command: string | undefined; hosts: HostResult[]; seconds: number } {
	const docs: unknown[] = [];
	const trimmed = text.trim();
	if (trimmed === '') throw new UsageError(`${file}: empty (expected the --json or --json=stream output of a fleet command)`);
	for (const [i, line] of trimmed.split('\n').entries()) {
		try {
			docs.push(JSON.parse(line));
		} catch {
			throw new UsageError(`${file}:${i + 1}: not JSON (expected the --json or --json=stream output of a fleet command)`);
		}
	}
	let command: string | undefined;
	let seconds = 0;
	const hosts: HostResult[] = [];
	for (const d of docs) {
		if (isHostResult(d)) {
			hosts.push(d);
			continue;
		}
		const doc = d as { command?: unknown; hosts?: unknown; summary?: { seconds?: unknown }; error?: unknown };
		if (doc.error !== undefined) continue;	/* the closing error line of a run that was not all ok */
		if (typeof doc.command !== 'string' || typeof doc.summary !== 'object') throw new UsageError(`${file}: not the output of a fleet command (no "command" and "summary")`);
		command = doc.command;
		seconds = Math.max(seconds, Number(doc.summary?.seconds ?? 0));
		if (Array.isArray(doc.hosts)) for (const h of doc.hosts) if (isHostResult(h)) hosts.push(h);
	}
	return { command, hosts, seconds };
}

export const reportCommand: CommandDef = {
	command: 'report <files..>',
	describe: 'merge the --json results of fleet runs (e.g. the shards of a batch job) into one recap and exit code',
	builder: (y) =>
		y
			.positional('files', { type: 'string', array: true, describe: 'outputs of `--json` or `--json=stream` runs' })
			.option('retry-file', { type: 'string', describe: 'write the names of the failed and unreachable hosts there, for --limit @FILE' })
			.example('$0 report shard-*.json', 'one recap; exit 0, 10, 11, 12 or 13 as the runs together'),
	async *run(_ctx, a) {
		const files = (a.files as string[] | undefined) ?? [];
		if (files.length === 0) throw new UsageError('report takes one or more result files');
		const byHost = new Map<string, HostResult>();
		const commands = new Set<string>();
		let seconds = 0;
		for (const f of files) {
			const r = hostsOfResultFile(new TextDecoder().decode(await readInputFile(f)), f);
			if (r.command !== undefined) commands.add(r.command);
			seconds = Math.max(seconds, r.seconds);
			for (const h of r.hosts) {
				if (byHost.has(h.host)) throw new UsageError(`host '${h.host}' is in two results (${f} and an earlier file): were the shards overlapping?`);
				byHost.set(h.host, h);
			}
		}
		if (commands.size > 1) throw new UsageError(`the files are results of different commands: ${[...commands].join(', ')}`);
		const tally = new Tally();
		const hosts = [...byHost.values()].sort((x, y) => (x.host < y.host ? -1 : x.host > y.host ? 1 : 0));
		for (const h of hosts) tally.add(h);
		let retryFile: string | undefined;
		if (typeof a['retry-file'] === 'string' && tally.retry.length > 0) {
			retryFile = a['retry-file'];
			const { writeFileSync } = await import('node:fs');
			writeFileSync(retryFile, `${tally.retry.join('\n')}\n`);
		}
		const summary = { ...tally.summary(), seconds };
		yield { kind: 'fleet', command: [...commands][0] ?? 'unknown', summary, hosts, ...(retryFile === undefined ? {} : { retryFile }) };
		const code = fleetExitCode(summary);
		if (code !== 0) throw new FleetOutcomeError(code, `${summary.failed} failed, ${summary.unreachable} unreachable, ${summary.changed} changed of ${summary.hosts} hosts`);
	},
};
