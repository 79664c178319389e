/**
 * The wire side of `nfluactl apply` (docs/policy.md, "On the router"): the bundle as one ustar
 * stream (tar-stream), the exact command run on the router, and the parser of the records it
 * prints. Pure apart from the tar stream's own buffering.
 */
import tarStream from 'tar-stream';
import { ProtocolError } from './errors.js';
import type { Bundle } from './policy.js';

/** The router's command (interface section 3): always an absolute path, never a shell word of ours. */
export const ROUTER_NFLUACTL = '/usr/sbin/nfluactl';

export function routerApplyArgv(o: { check: boolean; diff: boolean }): string[] {
	return [ROUTER_NFLUACTL, 'apply', ...(o.check ? ['--check'] : []), ...(o.diff ? ['--diff'] : []), '-'];
}

/** Fixed metadata, so the same bundle is the same bytes (mtime 0, root, 0644/0755). */
const MTIME = new Date(0);

/** The bundle as an ustar archive: the directories leading to each file, then the file. */
export async function bundleTar(b: Bundle): Promise<Buffer> {
	const pack = tarStream.pack();
	const chunks: Buffer[] = [];
	const done = new Promise<void>((resolve, reject) => {
		pack.on('data', (c: unknown) => {
			chunks.push(c as Buffer);
		});
		pack.on('end', resolve);
		pack.on('error', reject);
	});
	const dirs = new Set<string>();
	const add = (h: Partial<tarStream.Header> & { name: string }, data: Uint8Array = new Uint8Array()): Promise<void> =>
		new Promise((resolve, reject) => {
			pack.entry({ uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: MTIME, ...h }, data, (e) => (e ? reject(e) : resolve()));
		});
	for (const f of b.files) {
		const parts = f.path.split('/');
		for (let i = 1; i < parts.length; i++) {
			const d = `${parts.slice(0, i).join('/')}/`;
			if (!dirs.has(d)) {
				dirs.add(d);
				await add({ name: d, type: 'directory', mode: 0o755 });
			}
		}
		await add({ name: f.path, type: 'file', mode: 0o644 }, f.data);
	}
	pack.finalize();
	await done;
	return Buffer.concat(chunks);
}

export type ApplyResult = 'ok' | 'changed' | 'would-change' | 'failed';

export interface ApplyChange {
	/** "state web replace", "rules ipv4 filter forward", "file /etc/config/nflua" */
	readonly what: 'state' | 'rules' | 'file';
	readonly args: string[];
}

/** What the router printed (interface section 3). */
export interface ApplyReport {
	readonly result: ApplyResult;
	readonly changes: ApplyChange[];
	readonly diff: string[];
	readonly errors: string[];
}

const RESULTS = new Set<string>(['ok', 'changed', 'would-change', 'failed']);
/** a router's output is hostile too: bounded, and only the records we know */
const MAX_RECORDS = 100000;

/**
 * Parses the router's records. Unknown record words are skipped (a newer router may say more);
 * a missing header or `result` line is a protocol error (the command did not finish).
 */
export function parseApplyOutput(stdout: string, where: string): ApplyReport {
	const lines = stdout.split('\n');
	if (lines[lines.length - 1] === '') lines.pop();
	if (lines[0] !== 'nflua-apply 1') {
		throw new ProtocolError(`${where}: the router's nfluactl apply did not answer with 'nflua-apply 1'${lines[0] === undefined ? '' : ` (first line: ${JSON.stringify(lines[0].slice(0, 200))})`}`,
			'the router needs the nfluactl package of this release (/usr/sbin/nfluactl apply)');
	}
	if (lines.length > MAX_RECORDS) throw new ProtocolError(`${where}: more than ${MAX_RECORDS} lines from nfluactl apply`);
	const changes: ApplyChange[] = [];
	const diff: string[] = [];
	const errors: string[] = [];
	let result: ApplyResult | undefined;
	for (const line of lines.slice(1)) {
		if (result !== undefined) throw new ProtocolError(`${where}: output after the result line of nfluactl apply`);
		if (line.startsWith('diff| ') || line === 'diff|') {
			diff.push(line.slice(6));
			continue;
		}
		const sp = line.indexOf(' ');
		const word = sp < 0 ? line : line.slice(0, sp);
		const rest = sp < 0 ? '' : line.slice(sp + 1);
		switch (word) {
			case 'change': {
				const [what, ...args] = rest.split(' ');
				if (what === 'state' || what === 'rules' || what === 'file') changes.push({ what, args });
				break;
			}
			case 'error':
				errors.push(rest);
				break;
			case 'result':
				if (!RESULTS.has(rest)) throw new ProtocolError(`${where}: unknown result '${rest.slice(0, 50)}' from nfluactl apply`);
				result = rest as ApplyResult;
				break;
			default:
				break;
		}
	}
	if (result === undefined) throw new ProtocolError(`${where}: nfluactl apply ended without a result line`);
	return { result, changes, diff, errors };
}

/** "state web replace" */
export function changeText(c: ApplyChange): string {
	return `${c.what} ${c.args.join(' ')}`;
}
