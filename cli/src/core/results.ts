/** Result parsing: the module's key=value lines into typed objects. Pure. */
import { ProtocolError } from './errors.js';

export type KvValue = number | string;
export type KvObject = Record<string, KvValue>;

/**
 * "name=web maxalloc=1048576 ..." (space or newline separated) into an object. Decimal values
 * without leading zeros become numbers (the sh tool does the same), everything else strings.
 */
export function parseKeyValues(textValue: string): KvObject {
	const out: KvObject = {};
	for (const word of textValue.split(/[ \n]+/)) {
		if (word === '') continue;
		const eq = word.indexOf('=');
		if (eq <= 0) throw new ProtocolError(`expected key=value, got '${word}'`);
		const key = word.slice(0, eq);
		const v = word.slice(eq + 1);
		out[key] = /^(0|[1-9][0-9]{0,15})$/.test(v) ? Number(v) : v;
	}
	return out;
}

/** One state, as `list` gives it. Unknown keys are kept (a newer module may add counters). */
export interface StateInfo extends KvObject {
	name: string;
	maxalloc: number;
	mem: number;
	peak: number;
	budget: number;
	rules: number;
	calls: number;
	errors: number;
	budget_hits: number;
}

export interface StateStats extends StateInfo {
	alloc_fails: number;
	queued: number;
	dropped: number;
}

export interface ModuleStats extends KvObject {
	states: number;
	all_states: number;
	all_mem: number;
	version: string;
}

function require<T extends KvObject>(o: KvObject, numbers: readonly string[], strings: readonly string[], what: string): T {
	for (const k of numbers) {
		if (typeof o[k] !== 'number') throw new ProtocolError(`${what}: '${k}' missing or not a number`);
	}
	for (const k of strings) {
		if (o[k] === undefined) throw new ProtocolError(`${what}: '${k}' missing`);
		o[k] = String(o[k]);
	}
	return o as T;
}

const STATE_NUMBERS = ['maxalloc', 'mem', 'peak', 'budget', 'rules', 'calls', 'errors', 'budget_hits'] as const;

export function parseStateInfo(line: string): StateInfo {
	return require<StateInfo>(parseKeyValues(line), STATE_NUMBERS, ['name'], 'list');
}

export function parseStateStats(textValue: string): StateStats {
	return require<StateStats>(
		parseKeyValues(textValue),
		[...STATE_NUMBERS, 'alloc_fails', 'queued', 'dropped'],
		['name'],
		'stats',
	);
}

export function parseModuleStats(textValue: string): ModuleStats {
	return require<ModuleStats>(parseKeyValues(textValue), ['states', 'all_states', 'all_mem'], ['version'], 'stats');
}
