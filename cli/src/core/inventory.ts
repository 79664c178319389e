/**
 * Inventories: which routers a fleet command acts on, read from the files operators already
 * keep for Ansible. Two forms, as Ansible 2.14 (ansible-core) reads them:
 *
 * - INI: `[group]` sections of host lines (`name key=value...`, ranges `edge-[01:40]`,
 *   `[a:f]`, `[0:10:2]`, a `:PORT` suffix), `[group:vars]` and `[group:children]`; values are
 *   Python literals where they parse as one (`22` is a number, `True` a boolean), else strings.
 * - YAML: `all: {hosts: {NAME: {vars}}, vars: {...}, children: {GROUP: {...}}}`.
 *
 * A host's variables are those of its groups, shallowest first (`all`, then each level of
 * children; groups at the same depth in name order), then its own: the order Ansible merges
 * them in. Pure: no file system here (the command reads the file).
 */
import { parse as parseYaml } from 'yaml';
import { UsageError } from './errors.js';

export type Vars = Record<string, unknown>;

export interface Group {
	readonly name: string;
	/** hosts listed directly in this group, in file order */
	readonly hosts: string[];
	readonly children: string[];
	readonly parents: string[];
	readonly vars: Vars;
}

export interface Inventory {
	/** every host, in the order the file names them first */
	readonly hosts: string[];
	readonly groups: Map<string, Group>;
	/** each host's own variables (host lines, the port suffix) */
	readonly hostVars: Map<string, Vars>;
}

function fail(where: string, msg: string): never {
	throw new UsageError(`${where}: ${msg}`);
}

function newInventory(): Inventory {
	const inv: Inventory = { hosts: [], groups: new Map(), hostVars: new Map() };
	addGroup(inv, 'all');
	addGroup(inv, 'ungrouped');
	link(inv, 'all', 'ungrouped');
	return inv;
}

function addGroup(inv: Inventory, name: string): Group {
	let g = inv.groups.get(name);
	if (!g) {
		g = { name, hosts: [], children: [], parents: [], vars: {} };
		inv.groups.set(name, g);
		if (name !== 'all' && name !== 'ungrouped' && inv.groups.has('all')) link(inv, 'all', name);
	}
	return g;
}

function link(inv: Inventory, parent: string, child: string): void {
	const p = addGroup(inv, parent);
	const c = addGroup(inv, child);
	if (parent === child) throw new UsageError(`group '${parent}' cannot be its own child`);
	if (!p.children.includes(child)) p.children.push(child);
	if (!c.parents.includes(parent)) c.parents.push(parent);
	// a group with a parent other than 'all' is no longer a child of 'all'
	if (parent !== 'all') {
		const all = inv.groups.get('all');
		if (all && c.parents.includes('all')) {
			all.children.splice(all.children.indexOf(child), 1);
			c.parents.splice(c.parents.indexOf('all'), 1);
		}
	}
}

function addHost(inv: Inventory, name: string, group: string | undefined, vars: Vars): void {
	if (!inv.hostVars.has(name)) {
		inv.hosts.push(name);
		inv.hostVars.set(name, {});
	}
	if (group !== undefined && group !== 'all') {
		const g = addGroup(inv, group);
		if (!g.hosts.includes(name)) g.hosts.push(name);
	}
	Object.assign(inv.hostVars.get(name) as Vars, vars);
}

/** Hosts that are in no group but 'all' belong to 'ungrouped', as in Ansible. */
function reconcile(inv: Inventory): Inventory {
	const grouped = new Set<string>();
	for (const g of inv.groups.values()) if (g.name !== 'all' && g.name !== 'ungrouped') for (const h of g.hosts) grouped.add(h);
	const ungrouped = inv.groups.get('ungrouped') as Group;
	for (const h of inv.hosts) if (!grouped.has(h) && !ungrouped.hosts.includes(h)) ungrouped.hosts.push(h);
	for (let i = ungrouped.hosts.length - 1; i >= 0; i--) if (grouped.has(ungrouped.hosts[i] as string)) ungrouped.hosts.splice(i, 1);
	return inv;
}

// ---- host names: ranges and ports ----

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `edge-[01:03]` -> edge-01, edge-02, edge-03; `[a:c]`, `[0:10:2]`, several ranges nest. */
export function expandHostRange(pattern: string, where = 'host'): string[] {
	const open = pattern.indexOf('[');
	const close = open < 0 ? -1 : pattern.indexOf(']', open);
	if (open < 0 || close < 0 || !pattern.slice(open + 1, close).includes(':')) return [pattern];
	const head = pattern.slice(0, open);
	const tail = pattern.slice(close + 1);
	const bounds = pattern.slice(open + 1, close).split(':');
	if (bounds.length !== 2 && bounds.length !== 3) fail(where, `host range '${pattern}' must be [begin:end] or [begin:end:step]`);
	const beg = bounds[0] || '0';
	const end = bounds[1] ?? '';
	const step = bounds.length === 3 ? Number(bounds[2]) : 1;
	if (end === '') fail(where, `host range '${pattern}' has no end`);
	if (!Number.isInteger(step) || step <= 0) fail(where, `host range '${pattern}' has a bad step`);
	let seq: string[];
	if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
		const b = LETTERS.indexOf(beg);
		const e = LETTERS.indexOf(end);
		if (b > e) fail(where, `host range '${pattern}' must have begin <= end`);
		seq = [];
		for (let i = b; i <= e; i += step) seq.push(LETTERS[i] as string);
	} else {
		if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) fail(where, `host range '${pattern}' must be numbers or single letters`);
		const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
		if (width && end.length !== width) fail(where, `host range '${pattern}' must have begin and end of the same width`);
		const b = Number(beg);
		const e = Number(end);
		if (e - b > 1_000_000) fail(where, `host range '${pattern}' is larger than a million hosts`);
		seq = [];
		for (let i = b; i <= e; i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
	}
	return seq.flatMap((s) => expandHostRange(head + s + tail, where));
}

/** Splits `name:port` (ranges and `[v6]:port` allowed); an IPv6 address has no port. */
export function splitHostPort(pattern: string, where = 'host'): { name: string; port: number | undefined } {
	const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(pattern);
	if (v6) return { name: v6[1] as string, port: v6[2] === undefined ? undefined : Number(v6[2]) };
	const outside = pattern.replace(/\[[^\]]*\]/g, (m) => '_'.repeat(m.length));
	const colons = [...outside].filter((c) => c === ':').length;
	if (colons === 1) {
		const i = outside.indexOf(':');
		const port = pattern.slice(i + 1);
		if (!/^\d+$/.test(port) || Number(port) > 65535) fail(where, `'${pattern}': '${port}' is not a port number`);
		return { name: pattern.slice(0, i), port: Number(port) };
	}
	return { name: pattern, port: undefined };
}

// ---- INI values ----

/** POSIX shell-style words of a host line, as Python's shlex.split(line, comments=True). */
export function shellWords(line: string, where = 'line'): string[] {
	const words: string[] = [];
	let word = '';
	let inWord = false;
	for (let i = 0; i < line.length; i++) {
		const c = line[i] as string;
		if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
			if (inWord) words.push(word);
			word = '';
			inWord = false;
		} else if (c === '#') {
			break;
		} else if (c === "'") {
			const j = line.indexOf("'", i + 1);
			if (j < 0) fail(where, 'no closing quotation');
			word += line.slice(i + 1, j);
			inWord = true;
			i = j;
		} else if (c === '"') {
			inWord = true;
			for (i++; ; i++) {
				if (i >= line.length) fail(where, 'no closing quotation');
				const d = line[i] as string;
				if (d === '"') break;
				if (d === '\\' && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1] as string)) word += line[++i];
				else word += d;
			}
		} else if (c === '\\') {
			if (i + 1 >= line.length) fail(where, 'no escaped character');
			word += line[++i];
			inWord = true;
		} else {
			word += c;
			inWord = true;
		}
	}
	if (inWord) words.push(word);
	return words;
}

/**
 * A value as Ansible's INI reader keeps it: ast.literal_eval of the text when that parses
 * (numbers, quoted strings, True/False/None, lists, tuples and dicts of those), else the text.
 */
export function iniValue(text: string): unknown {
	const p = new LiteralParser(text);
	try {
		const v = p.value();
		p.space();
		if (p.i === text.length) return v;
	} catch {
		/* not a literal: the text itself */
	}
	return text;
}

class LiteralParser {
	i = 0;
	constructor(readonly s: string) {}
	space(): void {
		while (this.i < this.s.length && ' \t'.includes(this.s[this.i] as string)) this.i++;
	}
	eat(c: string): boolean {
		this.space();
		if (this.s.startsWith(c, this.i)) {
			this.i += c.length;
			return true;
		}
		return false;
	}
	value(): unknown {
		this.space();
		const c = this.s[this.i];
		if (c === '[' || c === '(') return this.seq(c === '[' ? ']' : ')');
		if (c === '{') return this.dict();
		if (c === "'" || c === '"') return this.str();
		const m = /^(True|False|None)(?![A-Za-z0-9_])/.exec(this.s.slice(this.i));
		if (m) {
			this.i += (m[1] as string).length;
			return m[1] === 'True' ? true : m[1] === 'False' ? false : null;
		}
		return this.num();
	}
	num(): number {
		const m = /^[-+]?\s*(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][-+]?\d+)?)(?![A-Za-z0-9_.])/.exec(this.s.slice(this.i));
		if (!m) throw new Error('not a number');
		this.i += m[0].length;
		const t = m[0].replace(/[\s_]/g, '');
		const neg = t.startsWith('-');
		const body = t.replace(/^[-+]/, '');
		let v: number;
		if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
		else if (/^0[oO]/.test(body)) v = parseInt(body.slice(2), 8);
		else if (/^0[bB]/.test(body)) v = parseInt(body.slice(2), 2);
		else if (/^0\d/.test(body) && !/[.eE]/.test(body)) throw new Error('leading zero');
		else v = Number(body);
		return neg ? -v : v;
	}
	str(): string {
		const q = this.s[this.i] as string;
		let out = '';
		for (this.i++; ; this.i++) {
			if (this.i >= this.s.length) throw new Error('unterminated');
			const c = this.s[this.i] as string;
			if (c === q) {
				this.i++;
				return out;
			}
			if (c === '\\') {
				const n = this.s[++this.i];
				const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
				if (n === undefined) throw new Error('unterminated');
				out += esc[n] ?? `\\${n}`;
			} else {
				out += c;
			}
		}
	}
	seq(close: string): unknown[] {
		this.i++;
		const out: unknown[] = [];
		if (this.eat(close)) return out;
		for (;;) {
			out.push(this.value());
			if (this.eat(close)) return out;
			if (!this.eat(',')) throw new Error('expected ,');
			if (this.eat(close)) return out;
		}
	}
	dict(): Vars {
		this.i++;
		const out: Vars = {};
		if (this.eat('}')) return out;
		for (;;) {
			const k = this.value();
			if (!this.eat(':')) throw new Error('expected :');
			out[String(k)] = this.value();
			if (this.eat('}')) return out;
			if (!this.eat(',')) throw new Error('expected ,');
			if (this.eat('}')) return out;
		}
	}
}

// ---- INI ----

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUPNAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

/** Parses an INI inventory; `file` names it in errors ("hosts.ini:12: ..."). */
export function parseIniInventory(text: string, file = 'inventory'): Inventory {
	const inv = newInventory();
	let group = 'ungrouped';
	let state = 'hosts';
	/* [g:children] and [g:vars] may name groups defined further down */
	const pendingChildren: { parent: string; child: string; line: number }[] = [];
	const varsBefore = new Map<string, number>();
	const lines = text.split(/\r?\n/);
	lines.forEach((raw, n) => {
		const where = `${file}:${n + 1}`;
		const line = raw.trim();
		if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
		const m = SECTION.exec(line);
		if (m) {
			group = m[1] as string;
			state = m[2] ?? 'hosts';
			if (!['hosts', 'children', 'vars'].includes(state)) fail(where, `section [${group}:${state}] has an unknown type '${state}'`);
			if (state === 'vars') {
				if (!inv.groups.has(group) && !varsBefore.has(group)) varsBefore.set(group, n + 1);
			} else {
				addGroup(inv, group);
				varsBefore.delete(group);
			}
			return;
		}
		if (line.startsWith('[') && line.endsWith(']')) fail(where, `invalid section '${line}' (no spaces allowed in a section name)`);
		if (state === 'hosts') {
			const words = shellWords(line, where);
			const first = words[0];
			if (first === undefined) return;
			if (first.endsWith(':')) fail(where, `invalid host pattern '${first}': a ':' must be followed by a port`);
			if (first.trim() === '---') fail(where, `invalid host pattern '---' (is this a YAML file?)`);
			const { name, port } = splitHostPort(first, where);
			const vars: Vars = {};
			for (const w of words.slice(1)) {
				const eq = w.indexOf('=');
				if (eq < 0) fail(where, `expected key=value host variable assignment, got '${w}'`);
				vars[w.slice(0, eq)] = iniValue(w.slice(eq + 1));
			}
			if (port !== undefined) vars.ansible_port = port;
			for (const h of expandHostRange(name, where)) addHost(inv, h, group, vars);
		} else if (state === 'vars') {
			const eq = line.indexOf('=');
			if (eq < 0) fail(where, `expected key=value, got '${line}'`);
			addGroup(inv, group).vars[line.slice(0, eq).trim()] = iniValue(line.slice(eq + 1).trim());
		} else {
			const c = GROUPNAME.exec(line);
			if (!c) fail(where, `expected a group name, got '${line}'`);
			pendingChildren.push({ parent: group, child: c[1] as string, line: n + 1 });
		}
	});
	const defined = new Set(inv.groups.keys());
	for (const { parent, child, line } of pendingChildren) {
		if (!defined.has(child) && !pendingChildren.some((p) => p.parent === child)) {
			fail(`${file}:${line}`, `section [${parent}:children] includes undefined group '${child}'`);
		}
		link(inv, parent, child);
	}
	for (const [g, line] of varsBefore) {
		if (!pendingChildren.some((p) => p.parent === g || p.child === g)) fail(`${file}:${line}`, `section [${g}:vars] is for a group that is not defined`);
	}
	checkCycles(inv, file);
	return reconcile(inv);
}

function checkCycles(inv: Inventory, file: string): void {
	const seen = new Set<string>();
	const visit = (g: string, path: string[]): void => {
		if (path.includes(g)) fail(file, `groups contain each other: ${[...path, g].join(' -> ')}`);
		if (seen.has(g)) return;
		for (const c of inv.groups.get(g)?.children ?? []) visit(c, [...path, g]);
		seen.add(g);
	};
	for (const g of inv.groups.keys()) visit(g, []);
}

// ---- YAML ----

function isMap(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the YAML form (Ansible's `yaml` inventory plugin). */
export function parseYamlInventory(text: string, file = 'inventory'): Inventory {
	let doc: unknown;
	try {
		doc = parseYaml(text);
	} catch (e) {
		fail(file, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
	}
	if (doc === null || doc === undefined) return newInventory();
	if (!isMap(doc)) fail(file, 'a YAML inventory is a mapping of group names (usually just "all:")');
	const inv = newInventory();
	const walk = (name: string, body: unknown, parent: string | undefined, path: string): void => {
		addGroup(inv, name);
		if (parent !== undefined) link(inv, parent, name);
		if (body === null || body === undefined) return;
		if (!isMap(body)) fail(file, `${path}: a group is a mapping of hosts, vars and children`);
		for (const key of Object.keys(body)) {
			if (!['hosts', 'vars', 'children'].includes(key)) fail(file, `${path}: unknown key '${key}' (a group has hosts, vars and children)`);
		}
		const vars = body.vars;
		if (vars !== undefined && vars !== null) {
			if (!isMap(vars)) fail(file, `${path}.vars: must be a mapping`);
			Object.assign(addGroup(inv, name).vars, vars);
		}
		const hosts = body.hosts;
		if (hosts !== undefined && hosts !== null) {
			if (!isMap(hosts)) fail(file, `${path}.hosts: must be a mapping of host names (to their variables or nothing)`);
			for (const [pattern, hv] of Object.entries(hosts)) {
				if (hv !== null && hv !== undefined && !isMap(hv)) fail(file, `${path}.hosts.${pattern}: host variables must be a mapping`);
				const { name: hn, port } = splitHostPort(pattern, `${file}: ${path}.hosts`);
				const v: Vars = { ...(hv ?? {}) };
				if (port !== undefined) v.ansible_port = port;
				for (const h of expandHostRange(hn, `${file}: ${path}.hosts`)) addHost(inv, h, name, v);
			}
		}
		const children = body.children;
		if (children !== undefined && children !== null) {
			if (!isMap(children)) fail(file, `${path}.children: must be a mapping of group names`);
			for (const [c, cb] of Object.entries(children)) walk(c, cb, name, `${path}.children.${c}`);
		}
	};
	for (const [g, body] of Object.entries(doc)) walk(g, body, g === 'all' ? undefined : 'all', g);
	checkCycles(inv, file);
	return reconcile(inv);
}

/** YAML when the text looks like it (a `key:` mapping, `---`), else INI; `.yml`/`.yaml` force YAML. */
export function parseInventory(text: string, file = 'inventory'): Inventory {
	if (/\.ya?ml$/i.test(file) || /^(---|[A-Za-z0-9_-]+:\s*$)/m.test(text.replace(/^\s*#.*$/gm, '').trimStart().split('\n')[0] ?? '')) {
		return parseYamlInventory(text, file);
	}
	return parseIniInventory(text, file);
}

// ---- a host's view ----

/** Groups of a host, all ancestors included ('all' first). */
export function groupsOf(inv: Inventory, host: string): string[] {
	const out = new Set<string>();
	const up = (g: string): void => {
		if (out.has(g)) return;
		out.add(g);
		for (const p of inv.groups.get(g)?.parents ?? []) up(p);
	};
	for (const g of inv.groups.values()) if (g.hosts.includes(host)) up(g.name);
	out.add('all');
	return [...out];
}

function depthOf(inv: Inventory, g: string, memo = new Map<string, number>()): number {
	const known = memo.get(g);
	if (known !== undefined) return known;
	const parents = inv.groups.get(g)?.parents ?? [];
	const d = parents.length === 0 ? 0 : 1 + Math.max(...parents.map((p) => depthOf(inv, p, memo)));
	memo.set(g, d);
	return d;
}

/** A host's variables as Ansible merges them: groups by depth then name, then the host's own. */
export function varsOf(inv: Inventory, host: string): Vars {
	const memo = new Map<string, number>();
	const groups = groupsOf(inv, host).sort((a, b) => depthOf(inv, a, memo) - depthOf(inv, b, memo) || (a < b ? -1 : a > b ? 1 : 0));
	const out: Vars = {};
	for (const g of groups) Object.assign(out, inv.groups.get(g)?.vars);
	Object.assign(out, inv.hostVars.get(host));
	return out;
}

/** How to reach a host over SSH, from its variables. */
export interface HostConnection {
	readonly name: string;
	readonly host: string;
	/** undefined: as ~/.ssh/config (or -F) says, else 22 */
	readonly port: number | undefined;
	/** undefined: as ~/.ssh/config (or -F) says, else the local user (as ssh and Ansible do) */
	readonly user: string | undefined;
	readonly identity: string | undefined;
	/** a ProxyJump-style chain, [user@]host[:port][,...] */
	readonly jump: string | undefined;
	/** ansible_* settings that nfluactl does not act on, said once per host */
	readonly ignored: string[];
}

function str(v: unknown): string | undefined {
	return v === undefined || v === null ? undefined : String(v);
}

/** ProxyJump from `ansible_ssh_common_args`: `-J X`, `-o ProxyJump=X`, `-o ProxyCommand="ssh -W %h:%p X"`. */
export function jumpFromSshArgs(args: string, where: string): { jump: string | undefined; ignored: string[] } {
	const w = shellWords(args.replace(/#/g, '\\#'), where);
	let jump: string | undefined;
	const ignored: string[] = [];
	for (let i = 0; i < w.length; i++) {
		const a = w[i] as string;
		let opt: string | undefined;
		if (a === '-J') jump = w[++i];
		else if (a.startsWith('-J')) jump = a.slice(2);
		else if (a === '-o') opt = w[++i];
		else if (a.startsWith('-o')) opt = a.slice(2);
		else ignored.push(a);
		if (opt === undefined) continue;
		const eq = opt.search(/[= ]/);
		const key = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
		const val = eq < 0 ? '' : opt.slice(eq + 1).trim();
		if (key === 'proxyjump') {
			jump = val;
		} else if (key === 'proxycommand') {
			const pw = shellWords(val, where);
			const wi = pw.indexOf('-W');
			if (pw[0] !== 'ssh' || wi < 0) fail(where, `ProxyCommand '${val}' is not 'ssh -W %h:%p [-p PORT] [user@]host': use ProxyJump`);
			let port: string | undefined;
			let target: string | undefined;
			for (let j = 1; j < pw.length; j++) {
				const t = pw[j] as string;
				if (t === '-W') j++;
				else if (t === '-p') port = pw[++j];
				else if (t === '-q') continue;
				else if (t.startsWith('-')) fail(where, `ProxyCommand option '${t}' is not supported: use ProxyJump`);
				else target = t;
			}
			if (target === undefined) fail(where, `ProxyCommand '${val}' names no jump host`);
			jump = port === undefined ? target : `${target}:${port}`;
		} else {
			ignored.push(`-o ${opt}`);
		}
	}
	if (jump === '') fail(where, 'empty ProxyJump');
	return { jump, ignored };
}

export function connectionOf(inv: Inventory, host: string): HostConnection {
	const v = varsOf(inv, host);
	const where = `host ${host}`;
	const portText = str(v.ansible_port ?? v.ansible_ssh_port);
	const port = portText === undefined ? undefined : Number(portText);
	if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) fail(where, `ansible_port '${portText}' is not a port number`);
	const args = [str(v.ansible_ssh_common_args), str(v.ansible_ssh_extra_args)].filter((a): a is string => a !== undefined && a !== '').join(' ');
	const { jump, ignored } = args ? jumpFromSshArgs(args, where) : { jump: undefined, ignored: [] as string[] };
	for (const k of ['ansible_password', 'ansible_ssh_pass', 'ansible_become', 'ansible_connection']) if (v[k] !== undefined) ignored.push(k);
	return {
		name: host,
		host: str(v.ansible_host ?? v.ansible_ssh_host) ?? host,
		port,
		user: str(v.ansible_user ?? v.ansible_ssh_user),
		identity: str(v.ansible_ssh_private_key_file ?? v.ansible_private_key_file),
		jump,
		ignored,
	};
}
