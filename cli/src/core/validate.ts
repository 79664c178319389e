/** Argument validation: the module's rules, checked before anything is sent. Pure. */
import { UsageError } from './errors.js';

/** State names: 1-63 bytes, printable ASCII 0x21-0x7e except '/'. */
export function parseStateName(name: string): string {
	if (name === '') throw new UsageError('missing state name');
	if (!/^[\x21-\x2e\x30-\x7e]+$/.test(name)) {
		throw new UsageError(`invalid state name '${name}' (printable ASCII without space and '/')`);
	}
	if (name.length > 63) throw new UsageError(`invalid state name '${name}' (at most 63 bytes)`);
	return name;
}

const UINT_MAX_DIGITS = 10;

/** A decimal number of at most 10 digits (the protocol's limit). */
export function parseUint(value: string | number, option: string): number {
	const s = String(value);
	if (!/^[0-9]+$/.test(s)) throw new UsageError(`${option} needs a decimal number, not '${s}'`);
	const t = s.replace(/^0+(?=.)/, '');
	if (t.length > UINT_MAX_DIGITS) throw new UsageError(`${option} '${s}' is too large`);
	return Number.parseInt(t, 10);
}

const SUFFIX: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size in bytes: decimal, optionally with K, M or G (powers of 1024). */
export function parseSize(value: string | number, option: string): number {
	const s = String(value);
	const m = /^([0-9]+)([kKmMgG]?)$/.exec(s);
	if (m === null) throw new UsageError(`${option} needs a number of bytes (e.g. 1048576 or 1M), not '${s}'`);
	const n = parseUint(m[1] ?? '', option);
	const mult = SUFFIX[(m[2] ?? '').toLowerCase()] ?? 1;
	const total = n * mult;
	if (String(total).length > UINT_MAX_DIGITS) throw new UsageError(`${option} '${s}' is too large`);
	return total;
}

/** A chunk name: any non-empty string without newlines (it becomes part of error messages). */
export function parseChunkName(name: string): string {
	if (name === '') throw new UsageError('--chunkname must not be empty');
	if (/[\n\r]/.test(name)) throw new UsageError('--chunkname must be one line');
	return name;
}

export interface HostSpec {
	readonly user: string | undefined;
	readonly host: string;
	readonly port: number | undefined;
}

/** `[user@]host[:port]`; IPv6 addresses in brackets: `[fe80::1]:22`. */
export function parseHostSpec(spec: string, option = '--host'): HostSpec {
	const at = spec.lastIndexOf('@');
	const user = at >= 0 ? spec.slice(0, at) : undefined;
	const rest = at >= 0 ? spec.slice(at + 1) : spec;
	if (user === '') throw new UsageError(`${option} '${spec}': empty user name`);
	let host: string;
	let port: string | undefined;
	const br = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
	if (br !== null) {
		host = br[1] ?? '';
		port = br[2];
	} else if ((rest.match(/:/g) ?? []).length > 1) {
		host = rest; // a bare IPv6 address
	} else {
		const c = rest.indexOf(':');
		host = c >= 0 ? rest.slice(0, c) : rest;
		port = c >= 0 ? rest.slice(c + 1) : undefined;
	}
	if (host === '' || /[\s/@]/.test(host)) throw new UsageError(`${option} '${spec}': bad host name`);
	if (user !== undefined && /[\s:/]/.test(user)) throw new UsageError(`${option} '${spec}': bad user name`);
	return { user, host, port: port === undefined ? undefined : parsePort(port, option) };
}

export function parsePort(value: string | number, option: string): number {
	const s = String(value);
	if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
		throw new UsageError(`${option}: bad port '${s}' (1-65535)`);
	}
	return Number(s);
}

/** Seconds, > 0, decimals allowed. */
export function parseTimeout(value: string | number): number {
	const n = Number(value);
	if (!Number.isFinite(n) || n <= 0 || n > 86400) throw new UsageError(`--timeout needs seconds (e.g. 15), not '${value}'`);
	return n;
}
