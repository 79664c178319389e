/**
 * Which hosts of an inventory a fleet command acts on: `--limit` patterns as Ansible reads them
 * and `--shard I/N`, a stable part of the inventory for one of N workers.
 *
 * A pattern is terms separated by ',' or ':': a host or group name, `all` or `*`, a glob
 * (`edge-*`, `core?`, `f00[1-5]`, `[!x]*`), `~REGEX`, or `@FILE` (a retry file: one host name a
 * line); a term may end in a subscript, `[N]` or `[N:M]` (inclusive) or `[N:]`, which keeps those
 * of its hosts by position. `&TERM` keeps only hosts also in TERM, `!TERM` removes TERM's hosts;
 * plain terms are added first, then `&`, then `!`, whatever their order. Results keep the
 * inventory's order.
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

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|\\/[\]-]/g, '\\$&');

/**
 * A glob as fnmatch reads it (Ansible's globs): `*`, `?`, and `[SET]` / `[!SET]` with ranges
 * (`[1-5]`, `[a-c]`); a `]` first in a set is part of it; a `[` with no closing `]` is itself.
 */
function globToRegExp(glob: string): RegExp {
	let re = '';
	for (let i = 0; i < glob.length; i++) {
		const c = glob.charAt(i);
		if (c === '*') {
			re += '.*';
		} else if (c === '?') {
			re += '.';
		} else if (c === '[') {
			let j = i + 1;
			if (glob[j] === '!') j++;
			if (glob[j] === ']') j++;
			const end = glob.indexOf(']', j);
			if (end < 0) {
				re += '\\[';
				continue;
			}
			let set = glob.slice(i + 1, end);
			const negate = set.startsWith('!');
			if (negate) set = set.slice(1);
			let body = '';
			for (let k = 0; k < set.length; k++) {
				if (set[k + 1] === '-' && k + 2 < set.length) {	/* a range */
					body += `${escapeRegExp(set.charAt(k))}-${escapeRegExp(set.charAt(k + 2))}`;
					k += 2;
				} else {
					body += escapeRegExp(set.charAt(k));
				}
			}
			re += `[${negate ? '^' : ''}${body}]`;
			i = end;
		} else {
			re += escapeRegExp(c);
		}
	}
	return new RegExp(`^${re}$`);
}

/** `TERM[N]`, `TERM[N:M]`, `TERM[N:]` (Ansible's subscripts; N, M may be negative: from the end). */
const SUBSCRIPT = /^(.+)\[(-?\d+)(?:(:)(-?\d*))?\]$/;

/** The hosts at the subscript's positions (M inclusive, as in Ansible). */
function subscript(hosts: string[], start: number, end: number | undefined): string[] {
	const at = (n: number): number => (n < 0 ? hosts.length + n : n);
	if (end === undefined) {
		const h = hosts[at(start)];
		return h === undefined ? [] : [h];
	}
	return hosts.slice(Math.max(0, at(start)), at(end) + 1);
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
	const sub = term.startsWith('~') || inv.hostVars.has(term) ? null : SUBSCRIPT.exec(term);
	if (sub) {
		const base = sub[1] ?? '';
		const of = matchTerm(inv, base, files);
		if (of.size === 0) {
			throw new UsageError(`'${base}' (subscripted by '${term.slice(base.length)}', positions as in Ansible) matches no host or group of the inventory; for characters, write a range ([0-2]) or ~REGEX`);
		}
		const hosts = inv.hosts.filter((h) => of.has(h));
		const end = sub[3] === undefined ? undefined : sub[4] === '' ? -1 : Number(sub[4]);
		return new Set(subscript(hosts, Number(sub[2]), end));
	}
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
	} else if (/[*?[]/.test(term)) {
		try {
			re = globToRegExp(term);
		} catch (e) {
			throw new UsageError(`'${term}': not a glob: ${(e as Error).message}`);
		}
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
