/**
 * Which hosts of an inventory a fleet command acts on: `--limit` patterns as Ansible reads them
 * and `--shard I/N`, a stable part of the inventory for one of N workers.
 *
 * A pattern is terms separated by ',' or ':': a host or group name, `all` or `*`, a glob
 * (`edge-*`, `core?`), `~REGEX`, or `@FILE` (a retry file: one host name a line). `&TERM` keeps
 * only hosts also in TERM, `!TERM` removes TERM's hosts; plain terms are added first, then `&`,
 * then `!`, whatever their order. Results keep the inventory's order.
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import type { Inventory } from './inventory.js';

/** Splits a pattern at ',' or at ':' (a ':' inside [..] or in an IPv6 address is kept). */
export function splitPattern(pattern: string): string[] {
	if (pattern.includes(',')) return pattern.split(',').map((t) => t.trim()).filter((t) => t !== '');
	if (/^[0-9a-fA-F]*:[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/.test(pattern)) return [pattern];	/* an IPv6 address */
	const out: string[] = [];
	let cur = '';
	let depth = 0;
	for (const c of pattern) {
		if (c === '[') depth++;
		else if (c === ']') depth = Math.max(0, depth - 1);
		if (c === ':' && depth === 0) {
			out.push(cur);
			cur = '';
		} else {
			cur += c;
		}
	}
	out.push(cur);
	return out.map((t) => t.trim()).filter((t) => t !== '');
}

function globToRegExp(glob: string): RegExp {
	let re = '';
	for (const c of glob) {
		if (c === '*') re += '.*';
		else if (c === '?') re += '.';
		else re += c.replace(/[.+^${}()|\\/[\]]/g, '\\$&');
	}
	return new RegExp(`^${re}$`);
}

/** All hosts of a group and of its descendants. */
function hostsOfGroup(inv: Inventory, group: string, out = new Set<string>(), seen = new Set<string>()): Set<string> {
	if (seen.has(group)) return out;
	seen.add(group);
	const g = inv.groups.get(group);
	if (!g) return out;
	if (group === 'all') for (const h of inv.hosts) out.add(h);
	for (const h of g.hosts) out.add(h);
	for (const c of g.children) hostsOfGroup(inv, c, out, seen);
	return out;
}

export interface PatternFiles {
	/** reads a retry file named by `@FILE` */
	readFile(path: string): string;
}

function matchTerm(inv: Inventory, term: string, files: PatternFiles | undefined): Set<string> {
	if (term.startsWith('@')) {
		if (!files) throw new UsageError(`'${term}': retry files are not allowed here`);
		const out = new Set<string>();
		const names = files.readFile(term.slice(1)).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
		for (const n of names) if (inv.hostVars.has(n)) out.add(n);
		return out;
	}
	if (term === 'all' || term === '*') return new Set(inv.hosts);
	if (inv.groups.has(term)) return hostsOfGroup(inv, term);
	if (inv.hostVars.has(term)) return new Set([term]);
	let re: RegExp | undefined;
	if (term.startsWith('~')) {
		try {
			re = new RegExp(term.slice(1));
		} catch (e) {
			throw new UsageError(`'${term}': not a regular expression: ${(e as Error).message}`);
		}
	} else if (/[*?]/.test(term)) {
		re = globToRegExp(term);
	}
	const out = new Set<string>();
	if (!re) return out;
	const rx = re;
	const test = (name: string): boolean => rx.test(name);
	for (const g of inv.groups.keys()) if (test(g)) for (const h of hostsOfGroup(inv, g)) out.add(h);
	for (const h of inv.hosts) if (test(h)) out.add(h);
	return out;
}

/** The hosts a pattern selects, in inventory order; a term that selects nothing is an error. */
export function selectHosts(inv: Inventory, pattern: string, files?: PatternFiles): string[] {
	const terms = splitPattern(pattern);
	if (terms.length === 0) throw new UsageError(`empty host pattern '${pattern}'`);
	const plain = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
	const inter = terms.filter((t) => t.startsWith('&')).map((t) => t.slice(1));
	const excl = terms.filter((t) => t.startsWith('!')).map((t) => t.slice(1));
	const pick = (t: string): Set<string> => {
		const s = matchTerm(inv, t, files);
		if (s.size === 0 && !t.startsWith('@')) throw new UsageError(`'${t}' matches no host or group of the inventory`);
		return s;
	};
	let sel = new Set<string>();
	if (plain.length === 0) sel = new Set(inv.hosts);
	for (const t of plain) for (const h of pick(t)) sel.add(h);
	for (const t of inter) {
		const keep = pick(t);
		sel = new Set([...sel].filter((h) => keep.has(h)));
	}
	for (const t of excl) for (const h of pick(t)) sel.delete(h);
	return inv.hosts.filter((h) => sel.has(h));
}

export interface Shard {
	readonly index: number;
	readonly count: number;
}

/** `I/N` with 0 <= I < N (Kubernetes' JOB_COMPLETION_INDEX is 0-based). */
export function parseShard(text: string): Shard {
	const m = /^(\d+)\/(\d+)$/.exec(text.trim());
	const index = m ? Number(m[1]) : NaN;
	const count = m ? Number(m[2]) : NaN;
	if (!m || count < 1 || index >= count || count > 1_000_000) {
		throw new UsageError(`--shard '${text}': expected I/N with 0 <= I < N (e.g. 0/8 ... 7/8)`);
	}
	return { index, count };
}

/** The shard a host belongs to: a hash of its name, so it never depends on the inventory's order. */
export function shardOf(host: string, count: number): number {
	const h = createHash('sha256').update(host, 'utf8').digest();
	return Number(h.readBigUInt64BE(0) % BigInt(count));
}

export function inShard(hosts: readonly string[], shard: Shard): string[] {
	return hosts.filter((h) => shardOf(h, shard.count) === shard.index);
}
