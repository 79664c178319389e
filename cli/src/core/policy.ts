/**
 * Policies (docs/policy.md): the states and rules a router should run, in YAML or JSON, checked
 * against cli/src/core/policy.schema.json (ajv) and then for what a schema cannot say (a rule's
 * state exists, a chain exists in its table, names are unique). compilePolicy turns a policy
 * and one router's variables into the bundle of docs/policy.md: the UCI file /etc/config/nflua
 * (docs/uci.md, option for option) and the Lua files it names. Pure and deterministic: the same
 * policy and variables give the same bytes, so a router that already runs them reports `ok`.
 * Reading the files is the caller's (commands/apply.ts).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { UsageError } from './errors.js';
import schema from './policy.schema.json' with { type: 'json' };

export type PolicyValue = string | number | boolean | PolicyValue[] | { [key: string]: PolicyValue };

export interface PolicyState {
	name: string;
	enabled?: boolean;
	maxalloc?: string | number;
	budget?: number;
	/** one Lua state per CPU (`nfluactl create --percpu`); maxalloc and budget are per replica */
	percpu?: boolean;
	/** paths relative to the policy file, in load order */
	scripts: string[];
	vars?: Record<string, PolicyValue>;
}

export interface PolicyRule {
	name?: string;
	enabled?: boolean;
	family?: 'ipv4' | 'ipv6' | 'any';
	table?: 'filter' | 'mangle' | 'raw';
	chain?: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
	match?: string;
	state: string;
	function: string;
	mode?: 'match' | 'target';
	invert?: boolean;
	tcp_payload?: boolean;
	target?: string;
}

export interface Policy {
	states: PolicyState[];
	rules?: PolicyRule[];
}

/** Where the router keeps the applied Lua files (interface: /work/apply-interface.md section 2). */
export const APPLY_DIR = '/etc/nflua/apply';
export const CONFIG_PATH = '/etc/config/nflua';
export const VARS_FILE = '00-vars.lua';
/** the inventory variable with a router's own values: {STATE: {NAME: value}} */
export const HOST_VARS_KEY = 'nflua_vars';
/** nesting of variable values (tables in tables), well below what Lua's parser takes */
const MAX_DEPTH = 32;
/** what the router's nfluactl apply accepts (docs/policy.md): bytes of one file, of the tar, entries */
export const BUNDLE_FILE_MAX = 2 * 1024 * 1024;
export const BUNDLE_MAX = 8 * 1024 * 1024;
export const BUNDLE_ENTRIES_MAX = 512;

/** The chains each table has (iptables(8)): a rule for another would fail on the router. */
const TABLE_CHAINS: Record<string, readonly string[]> = {
	filter: ['input', 'forward', 'output'],
	mangle: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
	raw: ['prerouting', 'output'],
};

const LUA_KEYWORDS = new Set([
	'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
	'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]);

const ajv = new Ajv({ allErrors: false, strict: true });
const validateSchema = ajv.compile<Policy>(schema);
const validateValue = ajv.getSchema<PolicyValue>(`${schema.$id}#/definitions/value`) as ValidateFunction<PolicyValue>;

/** `/states/0/scripts/1` -> `states[0].scripts[1]` */
function jsonPath(pointer: string): string {
	let out = '';
	for (const raw of pointer.split('/').slice(1)) {
		const p = raw.replace(/~1/g, '/').replace(/~0/g, '~');
		out += /^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `${out === '' ? '' : '.'}${p}` : `[${JSON.stringify(p)}]`;
	}
	return out === '' ? '(top)' : out;
}

function schemaMessage(e: ErrorObject): string {
	const p = e.params as Record<string, unknown>;
	if (e.propertyName !== undefined) return `'${e.propertyName}': not a Lua name (letters, digits, _, not first a digit)`;
	if (/^\/states\/\d+\/vars\/./.test(e.instancePath) && (e.keyword === 'type' || e.keyword === 'oneOf')) return 'must be a string, an integer, a boolean, a list or a map of those';
	switch (e.keyword) {
		case 'additionalProperties':
			return `unknown key '${String(p.additionalProperty)}'`;
		case 'required':
			return `missing '${String(p.missingProperty)}'`;
		case 'enum':
			return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
		case 'pattern':
			return `${e.message ?? 'does not match'}`;
		default:
			return e.message ?? e.keyword;
	}
}

function depthOk(v: unknown, depth: number): boolean {
	if (typeof v !== 'object' || v === null) return true;
	if (depth > MAX_DEPTH) return false;
	return Object.values(v).every((x) => depthOk(x, depth + 1));
}

/** Parses the text of a policy file: JSON for `.json`, else YAML (whose JSON subset is JSON). */
export function parsePolicyText(text: string, file: string): unknown {
	if (/\.json$/i.test(file)) {
		try {
			return JSON.parse(text) as unknown;
		} catch (e) {
			throw new UsageError(`${file}: not JSON: ${(e as Error).message}`);
		}
	}
	const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
	const err = doc.errors[0];
	if (err !== undefined) {
		const line = text.slice(0, err.pos[0]).split('\n').length;
		throw new UsageError(`${file}:${line}: not YAML: ${err.message.split('\n')[0] ?? ''}`);
	}
	try {
		return doc.toJS({ maxAliasCount: 100 }) as unknown;
	} catch (e) {
		throw new UsageError(`${file}: ${(e as Error).message}`);
	}
}

/** Checks a parsed policy: the schema, then what it cannot say. Errors name the file and the path. */
export function checkPolicy(doc: unknown, file: string): Policy {
	if (!depthOk(doc, 0)) throw new UsageError(`${file}: values nested more than ${MAX_DEPTH} deep`);
	if (!validateSchema(doc)) {
		const e = validateSchema.errors?.[0];
		throw new UsageError(`${file}: ${e === undefined ? '' : `${jsonPath(e.instancePath)}: ${schemaMessage(e)}`}`);
	}
	const p = doc;
	const sections = new Map<string, string>();
	const claim = (name: string, where: string): void => {
		const other = sections.get(name);
		if (other !== undefined) throw new UsageError(`${file}: ${where}: the name '${name}' is also ${other} (UCI section names are unique)`);
		sections.set(name, where);
	};
	const states = new Set<string>();
	p.states.forEach((s, i) => {
		claim(s.name, `states[${i}]`);
		states.add(s.name);
		for (const k of Object.keys(s.vars ?? {})) {
			if (LUA_KEYWORDS.has(k)) throw new UsageError(`${file}: states[${i}].vars.${k}: a Lua keyword cannot name a variable`);
		}
		s.scripts.forEach((f, j) => {
			if (f.includes('\0')) throw new UsageError(`${file}: states[${i}].scripts[${j}]: a NUL in a path`);
			if (!/^[A-Za-z0-9._-]+$/.test(baseName(f))) {
				throw new UsageError(`${file}: states[${i}].scripts[${j}]: '${baseName(f)}': name the file with letters, digits and . _ - (it becomes a path in /etc/config/nflua)`);
			}
		});
	});
	(p.rules ?? []).forEach((r, i) => {
		if (r.name !== undefined) claim(r.name, `rules[${i}]`);
		if (!states.has(r.state)) throw new UsageError(`${file}: rules[${i}].state: no state '${r.state}' in the policy`);
		const table = r.table ?? 'filter';
		const chain = r.chain ?? 'forward';
		if (!(TABLE_CHAINS[table] ?? []).includes(chain)) throw new UsageError(`${file}: rules[${i}].chain: the ${table} table has no ${chain} chain (it has ${(TABLE_CHAINS[table] ?? []).join(', ')})`);
		if (r.mode === 'target' && r.target !== undefined) throw new UsageError(`${file}: rules[${i}].target: a rule of mode 'target' takes its verdict from the function`);
	});
	/* generated rule names must not meet given ones */
	(p.rules ?? []).forEach((r, i) => {
		if (r.name === undefined) claim(ruleSection(r, i), `rules[${i}]`);
	});
	return p;
}

export function parsePolicy(text: string, file: string): Policy {
	return checkPolicy(parsePolicyText(text, file), file);
}

function baseName(path: string): string {
	return path.slice(path.lastIndexOf('/') + 1);
}

function ruleSection(r: PolicyRule, i: number): string {
	return r.name ?? `rule_${i + 1}`;
}

/**
 * A router's variables: the policy's defaults, each replaced by the inventory's `nflua_vars`
 * value of the same state and name. A state or a name the policy does not declare is an error
 * (a typo would otherwise be silently ignored).
 */
export function hostVars(policy: Policy, inventoryValue: unknown, where: string): Map<string, Record<string, PolicyValue>> {
	const out = new Map<string, Record<string, PolicyValue>>();
	for (const s of policy.states) out.set(s.name, { ...(s.vars ?? {}) });
	if (inventoryValue === undefined || inventoryValue === null) return out;
	if (typeof inventoryValue !== 'object' || Array.isArray(inventoryValue)) throw new UsageError(`${where}: ${HOST_VARS_KEY}: expected a map of state names to maps of variables`);
	for (const [state, vars] of Object.entries(inventoryValue)) {
		const mine = out.get(state);
		if (mine === undefined) throw new UsageError(`${where}: ${HOST_VARS_KEY}.${state}: the policy has no state '${state}'`);
		if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) throw new UsageError(`${where}: ${HOST_VARS_KEY}.${state}: expected a map of variable names to values`);
		for (const [name, value] of Object.entries(vars as Record<string, unknown>)) {
			if (!Object.hasOwn(mine, name)) throw new UsageError(`${where}: ${HOST_VARS_KEY}.${state}.${name}: the policy declares no such variable (give its default in states[].vars)`);
			if (!depthOk(value, 0) || !validateValue(value)) {
				throw new UsageError(`${where}: ${HOST_VARS_KEY}.${state}.${name}: not a string, integer, boolean, list or map of those`);
			}
			mine[name] = value;
		}
	}
	return out;
}

/**
 * A Lua string literal of the UTF-8 bytes of s: printable ASCII as itself, everything else
 * (quotes, backslashes, newlines, NULs, non-ASCII) as a 3-digit decimal escape, so that no
 * input can end the literal or make the chunk mean anything else.
 */
export function luaString(s: string): string {
	let out = '"';
	for (const b of Buffer.from(s, 'utf8')) {
		out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`;
	}
	return `${out}"`;
}

function luaValue(v: PolicyValue, indent: string): string {
	if (typeof v === 'string') return luaString(v);
	if (typeof v === 'boolean') return v ? 'true' : 'false';
	if (typeof v === 'number') {
		if (!Number.isSafeInteger(v)) throw new UsageError(`${v}: variables hold integers only`);
		return String(v);
	}
	const inner = `${indent}\t`;
	if (Array.isArray(v)) return v.length === 0 ? '{}' : `{\n${v.map((x) => `${inner}${luaValue(x, inner)},\n`).join('')}${indent}}`;
	const keys = Object.keys(v).sort();
	return keys.length === 0 ? '{}' : `{\n${keys.map((k) => `${inner}[${luaString(k)}] = ${luaValue(v[k] as PolicyValue, inner)},\n`).join('')}${indent}}`;
}

/** The Lua chunk that sets a state's variables as globals (names in order, so the bytes are stable). */
export function renderVars(vars: Record<string, PolicyValue>): string {
	const lines = Object.keys(vars).sort().map((k) => {
		if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || LUA_KEYWORDS.has(k)) throw new UsageError(`'${k}': not a Lua name`);
		return `${k} = ${luaValue(vars[k] as PolicyValue, '')}\n`;
	});
	return `-- written by nfluactl apply from the policy's variables and the inventory's ${HOST_VARS_KEY}\n${lines.join('')}`;
}

/** A UCI option value in single quotes (a quote inside closes, escapes and reopens). */
function uciQuote(s: string): string {
	return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface BundleFile {
	/** path inside the bundle, relative to the router's / (no leading slash) */
	readonly path: string;
	readonly data: Uint8Array;
}

/** A policy compiled for one router: the files, in the order the tar holds them. */
export interface Bundle {
	readonly files: BundleFile[];
}

/**
 * The bundle for one router. `script(path)` gives a script's bytes (path as the policy gives
 * it); `vars` are the router's variables (hostVars).
 */
export function compilePolicy(policy: Policy, vars: Map<string, Record<string, PolicyValue>>, script: (path: string) => Uint8Array): Bundle {
	const enc = new TextEncoder();
	const files: BundleFile[] = [];
	let uci = '# written by nfluactl apply (docs/policy.md): edits here are replaced by the next apply\n';
	for (const s of policy.states) {
		const dir = `${APPLY_DIR}/${s.name}`;
		const scripts: string[] = [];
		const v = vars.get(s.name) ?? {};
		if (Object.keys(v).length > 0) {
			scripts.push(`${dir}/${VARS_FILE}`);
			files.push({ path: `${dir.slice(1)}/${VARS_FILE}`, data: enc.encode(renderVars(v)) });
		}
		s.scripts.forEach((f, i) => {
			const name = `${String(i + 1).padStart(2, '0')}-${baseName(f)}`;
			scripts.push(`${dir}/${name}`);
			files.push({ path: `${dir.slice(1)}/${name}`, data: script(f) });
		});
		uci += `\nconfig state ${uciQuote(s.name)}\n`;
		uci += `\toption enabled ${uciQuote(s.enabled === false ? '0' : '1')}\n`;
		if (s.maxalloc !== undefined) uci += `\toption maxalloc ${uciQuote(String(s.maxalloc))}\n`;
		if (s.budget !== undefined) uci += `\toption budget ${uciQuote(String(s.budget))}\n`;
		if (s.percpu === true) uci += `\toption percpu '1'\n`;
		for (const p of scripts) uci += `\tlist script ${uciQuote(p)}\n`;
	}
	(policy.rules ?? []).forEach((r, i) => {
		const mode = r.mode ?? 'match';
		uci += `\nconfig rule ${uciQuote(ruleSection(r, i))}\n`;
		const opts: [string, string | undefined][] = [
			['enabled', r.enabled === false ? '0' : '1'],
			['family', r.family ?? 'ipv4'],
			['table', r.table ?? 'filter'],
			['chain', r.chain ?? 'forward'],
			['match', r.match === undefined || r.match === '' ? undefined : r.match],
			['state', r.state],
			['function', r.function],
			['mode', mode],
			['invert', r.invert === true ? '1' : '0'],
			['tcp_payload', r.tcp_payload === true ? '1' : '0'],
			['target', mode === 'match' ? (r.target ?? 'DROP') : undefined],
		];
		for (const [k, val] of opts) if (val !== undefined) uci += `\toption ${k} ${uciQuote(val)}\n`;
	});
	const all = [{ path: CONFIG_PATH.slice(1), data: enc.encode(uci) }, ...files];
	/* the router's limits, checked here so that a too large policy is refused before any router is */
	for (const f of all) {
		if (f.data.length > BUNDLE_FILE_MAX) throw new UsageError(`/${f.path}: ${f.data.length} bytes; a router takes files of at most ${BUNDLE_FILE_MAX} bytes`);
	}
	const entries = all.length + 4 + policy.states.length;	/* the files, etc/ etc/config/ etc/nflua/ etc/nflua/apply/, a directory per state */
	if (entries > BUNDLE_ENTRIES_MAX) throw new UsageError(`the bundle would have ${entries} entries; a router takes at most ${BUNDLE_ENTRIES_MAX}`);
	const bytes = all.reduce((n, f) => n + 512 + Math.ceil(f.data.length / 512) * 512, 1024 + 512 * (4 + policy.states.length));
	if (bytes > BUNDLE_MAX) throw new UsageError(`the bundle would be ${bytes} bytes; a router takes at most ${BUNDLE_MAX}`);
	return { files: all };
}
