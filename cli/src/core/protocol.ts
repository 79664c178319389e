/**
 * The /dev/nflua framing (docs/protocol.md): requests "OP LEN1 ... LENn\n" + fields, replies
 * "ERRNO LEN1 ... LENn\n" + fields. Pure: bytes in, bytes out.
 */
import { ProtocolError, UsageError } from './errors.js';

/** A request: a header of at most 255 bytes, at most 8 fields. */
export const MAX_HEADER = 255;
export const MAX_FIELDS = 8;
/**
 * A reply: at most 8192 fields (list gives one per state, execute one per value), so its header
 * ("ERRNO LEN..." at most 11 bytes a field) is longer than a request's.
 */
export const MAX_REPLY_FIELDS = 8192;
export const MAX_REPLY_HEADER = 12 + MAX_REPLY_FIELDS * 11;
export const MAX_REQUEST = 64 * 1024 * 1024;
/** The largest reply we accept: execute results are at most 256 KiB, receive at most 64 KiB. */
export const MAX_REPLY = 1024 * 1024;

export type Op = 'version' | 'create' | 'destroy' | 'rename' | 'list' | 'stats' | 'execute' | 'send' | 'receive' | 'set';
export type Field = string | Uint8Array;

/** An encoded request: header and fields as separate chunks (a script is not copied). */
export interface Request {
	readonly op: Op;
	readonly chunks: readonly Uint8Array[];
	readonly length: number;
}

export interface Reply {
	readonly errno: number;
	readonly fields: readonly Uint8Array[];
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8');

export function bytes(f: Field): Uint8Array {
	return typeof f === 'string' ? enc.encode(f) : f;
}

export function text(b: Uint8Array): string {
	return dec.decode(b);
}

export function encodeRequest(op: Op, fields: readonly Field[] = []): Request {
	if (fields.length > MAX_FIELDS) throw new UsageError(`${op}: ${fields.length} fields, a request holds at most ${MAX_FIELDS}`);
	const data = fields.map(bytes);
	const header = enc.encode(`${op}${data.map((d) => ` ${d.length}`).join('')}\n`);
	if (header.length > MAX_HEADER) throw new UsageError(`${op}: request header longer than ${MAX_HEADER} bytes`);
	const length = data.reduce((n, d) => n + d.length, header.length);
	if (length > MAX_REQUEST) {
		throw new UsageError(`${op}: the request is ${length} bytes, larger than a request may be (64 MiB)`);
	}
	return { op, chunks: [header, ...data.filter((d) => d.length > 0)], length };
}

/** The request as one buffer (for tests and small requests). */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
	const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
	let off = 0;
	for (const c of chunks) {
		out.set(c, off);
		off += c.length;
	}
	return out;
}

const DECIMAL = /^[0-9]{1,10}$/;

function parseHeader(line: string, what: string): number[] {
	const words = line.split(' ');
	if (words.length < 1 || words.length > MAX_REPLY_FIELDS + 1 || !words.every((w) => DECIMAL.test(w))) {
		throw new ProtocolError(`bad ${what} header '${printable(line)}'`);
	}
	return words.map((w) => Number.parseInt(w, 10));
}

/** Shows a header safely in a message: control bytes escaped, cut at 80 characters. */
export function printable(s: string): string {
	const t = s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
	return t.length > 80 ? `${t.slice(0, 80)}...` : t;
}

/**
 * Incremental reply parser: feed it what the device or the bridge gives, in any pieces; it
 * returns the reply once complete. Bytes after a complete reply are a protocol error (the
 * module never returns two replies in one read, and the bridge relays one).
 */
export class ReplyDecoder {
	private buf: Uint8Array[] = [];
	private have = 0;
	private lens: number[] | undefined;
	private errno = 0;
	private need = 0;
	private done: Reply | undefined;

	get complete(): boolean {
		return this.done !== undefined;
	}

	/** Bytes received so far (for messages). */
	get received(): number {
		return this.have;
	}

	push(chunk: Uint8Array): Reply | undefined {
		if (this.done !== undefined) {
			if (chunk.length > 0) throw new ProtocolError(`${chunk.length} unexpected bytes after a complete reply`);
			return this.done;
		}
		this.buf.push(chunk);
		this.have += chunk.length;
		if (this.lens === undefined) {
			const all = concat(this.buf);
			const nl = all.indexOf(10);
			if (nl < 0) {
				if (all.length >= MAX_REPLY_HEADER) throw new ProtocolError(`reply header longer than ${MAX_REPLY_HEADER} bytes`);
				this.buf = [all];
				return undefined;
			}
			if (nl + 1 > MAX_REPLY_HEADER) throw new ProtocolError(`reply header longer than ${MAX_REPLY_HEADER} bytes`);
			const words = parseHeader(text(all.subarray(0, nl)), 'reply');
			this.errno = words[0] ?? 0;
			this.lens = words.slice(1);
			this.need = this.lens.reduce((a, b) => a + b, 0);
			if (this.need > MAX_REPLY) throw new ProtocolError(`reply announces ${this.need} bytes, more than ${MAX_REPLY}`);
			this.buf = [all.subarray(nl + 1)];
			this.have = all.length - nl - 1;
		}
		if (this.have < this.need) return undefined;
		if (this.have > this.need) throw new ProtocolError(`reply has ${this.have - this.need} bytes more than its header announced`);
		const body = concat(this.buf);
		const fields: Uint8Array[] = [];
		let off = 0;
		for (const n of this.lens) {
			fields.push(body.slice(off, off + n));
			off += n;
		}
		this.done = { errno: this.errno, fields };
		return this.done;
	}

	/** Called at end of input: a reply that did not complete is a protocol error. */
	end(): Reply {
		if (this.done !== undefined) return this.done;
		if (this.lens === undefined) {
			throw new ProtocolError(this.have === 0 ? 'no reply' : 'reply header without a newline');
		}
		throw new ProtocolError(`reply announced ${this.need} bytes, got ${this.have}`);
	}
}

/** Parses one complete reply. */
export function decodeReply(data: Uint8Array): Reply {
	const d = new ReplyDecoder();
	d.push(data);
	return d.end();
}

/** Encodes a reply (the module's side; used by tests and fakes). */
export function encodeReply(errno: number, fields: readonly Field[] = []): Uint8Array {
	const data = fields.map(bytes);
	return concat([enc.encode(`${errno}${data.map((d) => ` ${d.length}`).join('')}\n`), ...data]);
}

/**
 * Parses a request (the module's side; used by the tests' fake device to check what the
 * transports send).
 */
export function decodeRequest(data: Uint8Array): { op: string; fields: Uint8Array[] } {
	const nl = data.indexOf(10);
	if (nl < 0) throw new ProtocolError('request header without a newline');
	const words = text(data.subarray(0, nl)).split(' ');
	const op = words.shift() ?? '';
	const lens = words.map((w) => {
		if (!DECIMAL.test(w)) throw new ProtocolError(`bad request header`);
		return Number.parseInt(w, 10);
	});
	const fields: Uint8Array[] = [];
	let off = nl + 1;
	for (const n of lens) {
		if (off + n > data.length) throw new ProtocolError('truncated request');
		fields.push(data.slice(off, off + n));
		off += n;
	}
	if (off !== data.length) throw new ProtocolError('bytes after the request');
	return { op, fields };
}
