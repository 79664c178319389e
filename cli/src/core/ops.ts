/**
 * Typed operations: each builds its request and interprets its reply. No I/O: a command sends
 * the request through a Transport and hands the reply back here.
 */
import { errorFromReply, ProtocolError, type OpContext } from './errors.js';
import { encodeRequest, text, type Field, type Reply, type Request } from './protocol.js';
import { parseModuleStats, parseStateInfo, parseStateStats, type ModuleStats, type StateInfo, type StateStats } from './results.js';
import { parseChunkName, parseStateName } from './validate.js';

export interface Limits {
	readonly maxalloc?: number | undefined;
	readonly budget?: number | undefined;
}

export interface CreateOptions extends Limits {
	/** one Lua state per possible CPU (docs/kernel-lua.md, "Per-CPU states") */
	readonly percpu?: boolean | undefined;
}

/** One replica's results: `cpu` is the CPU id, or 'all' for a state that is not per CPU. */
export interface CpuValues {
	readonly cpu: number | 'all';
	readonly values: Uint8Array[];
}

export interface Operation<T> {
	readonly ctx: OpContext;
	readonly request: Request;
	/** Interprets the reply: the result, or a typed error thrown. */
	parse(reply: Reply): T;
}

/** Throws the typed error of an error reply. */
export function check(reply: Reply, ctx: OpContext): Reply {
	if (reply.errno === 0) return reply;
	if (reply.fields.length < 1) throw new ProtocolError(`error ${reply.errno} without a message`);
	const msg = reply.fields.map(text).join(' ').replace(/\n+$/, '');
	throw errorFromReply(reply.errno, msg, ctx);
}

function expectFields(reply: Reply, n: number): Reply {
	if (reply.fields.length !== n) throw new ProtocolError(`expected ${n} reply fields, got ${reply.fields.length}`);
	return reply;
}

function op<T>(ctx: OpContext, request: Request, parse: (r: Reply) => T): Operation<T> {
	return {
		ctx,
		request,
		parse: (r) => {
			try {
				return parse(check(r, ctx));
			} catch (e) {
				if (e instanceof ProtocolError) e.message = `${ctx.op}${ctx.state === undefined ? '' : ` ${ctx.state}`}: ${e.message}`;
				throw e;
			}
		},
	};
}

function limitFields(l: Limits): string[] {
	const f: string[] = [];
	if (l.maxalloc !== undefined) f.push(`maxalloc=${l.maxalloc}`);
	if (l.budget !== undefined) f.push(`budget=${l.budget}`);
	return f;
}

export function version(): Operation<string> {
	return op({ op: 'version' }, encodeRequest('version'), (r) => text(expectFields(r, 1).fields[0] as Uint8Array).replace(/\n$/, ''));
}

export function create(name: string, limits: CreateOptions = {}): Operation<void> {
	parseStateName(name);
	const fields = [name, ...limitFields(limits), ...(limits.percpu === true ? ['percpu=1'] : [])];
	return op({ op: 'create', state: name }, encodeRequest('create', fields), (r) => {
		expectFields(r, 0);
	});
}

export function destroy(name: string): Operation<void> {
	parseStateName(name);
	return op({ op: 'destroy', state: name }, encodeRequest('destroy', [name]), (r) => {
		expectFields(r, 0);
	});
}

/** FROM takes the name TO; a state named TO takes FROM (an atomic exchange in the kernel). */
export function rename(from: string, to: string): Operation<void> {
	parseStateName(from);
	parseStateName(to);
	return op({ op: 'rename', state: from }, encodeRequest('rename', [from, to]), (r) => {
		expectFields(r, 0);
	});
}

export function set(name: string, limits: Limits): Operation<void> {
	parseStateName(name);
	return op({ op: 'set', state: name }, encodeRequest('set', [name, ...limitFields(limits)]), (r) => {
		expectFields(r, 0);
	});
}

export function list(): Operation<StateInfo[]> {
	return op({ op: 'list' }, encodeRequest('list'), (r) => r.fields.map((f) => parseStateInfo(text(f))));
}

export function stats(name: string): Operation<StateStats> {
	parseStateName(name);
	return op({ op: 'stats', state: name }, encodeRequest('stats', [name]), (r) => parseStateStats(text(expectFields(r, 1).fields[0] as Uint8Array)));
}

export function moduleStats(): Operation<ModuleStats> {
	return op({ op: 'stats' }, encodeRequest('stats'), (r) => parseModuleStats(text(expectFields(r, 1).fields[0] as Uint8Array)));
}

/**
 * A reply framed by replica (the request's split=1): "cpu=N results=K" (or "cpu=all") before
 * each replica's K results (docs/protocol.md).
 */
export function parseByCpu(fields: readonly Uint8Array[]): CpuValues[] {
	const out: CpuValues[] = [];
	for (let i = 0; i < fields.length; ) {
		const m = /^cpu=(all|0|[1-9][0-9]{0,5}) results=(0|[1-9][0-9]{0,5})$/.exec(text(fields[i] as Uint8Array));
		if (m === null) throw new ProtocolError(`expected 'cpu=N results=K', got '${text(fields[i] as Uint8Array).slice(0, 40)}'`);
		const n = Number(m[2]);
		if (i + 1 + n > fields.length) throw new ProtocolError(`cpu ${m[1]}: ${n} results announced, ${fields.length - i - 1} left`);
		out.push({ cpu: m[1] === 'all' ? 'all' : Number(m[1]), values: fields.slice(i + 1, i + 1 + n) });
		i += 1 + n;
	}
	return out;
}

/** execute and send with split=1: the results of each replica (a per-CPU state), in CPU order. */
export function executeByCpu(name: string, chunkName: string, chunk: Field): Operation<CpuValues[]> {
	parseStateName(name);
	parseChunkName(chunkName);
	return op({ op: 'execute', state: name }, encodeRequest('execute', [name, chunkName, chunk, 'split=1']), (r) => parseByCpu(r.fields));
}

export function sendByCpu(name: string, data: Field): Operation<CpuValues[]> {
	parseStateName(name);
	return op({ op: 'send', state: name }, encodeRequest('send', [name, data, 'split=1']), (r) => parseByCpu(r.fields));
}

/** Results of execute and send: raw bytes, one per returned value (a per-CPU state's replicas
 * one after the other, in CPU order). */
export function execute(name: string, chunkName: string, chunk: Field): Operation<Uint8Array[]> {
	parseStateName(name);
	parseChunkName(chunkName);
	return op({ op: 'execute', state: name }, encodeRequest('execute', [name, chunkName, chunk]), (r) => [...r.fields]);
}

export function send(name: string, data: Field): Operation<Uint8Array[]> {
	parseStateName(name);
	return op({ op: 'send', state: name }, encodeRequest('send', [name, data]), (r) => [...r.fields]);
}

/** Messages queued by nflua.send(), oldest first (at least one). */
export function receive(name: string): Operation<Uint8Array[]> {
	parseStateName(name);
	return op({ op: 'receive', state: name }, encodeRequest('receive', [name]), (r) => {
		if (r.fields.length < 1) throw new ProtocolError('receive reply without messages');
		return [...r.fields];
	});
}
