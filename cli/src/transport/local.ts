/**
 * Local transport: /dev/nflua through plain file I/O. The device is opened once; each call
 * writes the whole request (in as many write()s as it takes), then reads until the reply is
 * complete. Calls are queued: one reply at a time.
 */
import { execFile, spawn } from 'node:child_process';
import { constants, promises as fsp } from 'node:fs';
import { isIptablesCommand } from '../core/bridge.js';
import { InternalError, ModuleMissingError, PermissionError, ProtocolError, TimeoutError, type NfluaError } from '../core/errors.js';
import { ReplyDecoder, type Reply, type Request } from '../core/protocol.js';
import { CallQueue, type CallOptions, type ProcessResult, type Transport } from './types.js';

export const DEFAULT_DEVICE = '/dev/nflua';

function ioError(e: unknown, what: string, device: string): NfluaError {
	const err = e as NodeJS.ErrnoException;
	const why = err.code ?? err.message;
	if (err.code === 'ENOENT') {
		return new ModuleMissingError(
			`${device} does not exist`,
			device === DEFAULT_DEVICE ? 'is the nflua module loaded? (modprobe nflua)' : undefined,
		);
	}
	if (err.code === 'EPERM' || err.code === 'EACCES') {
		return new PermissionError(`${what} ${device}: ${err.code === 'EPERM' ? 'operation not permitted' : 'permission denied'}`, 'CAP_NET_ADMIN is needed (run as root)');
	}
	if (what === 'open') return new ModuleMissingError(`cannot open ${device}: ${why}`);
	return new ProtocolError(`${what} ${device}: ${why}`);
}

export class LocalTransport implements Transport {
	readonly where = 'local';
	readonly supportsNonblock = true;
	private readonly queue = new CallQueue();
	private handles = new Map<boolean, fsp.FileHandle>();

	constructor(readonly device: string = DEFAULT_DEVICE) {}

	private async open(nonblock: boolean): Promise<fsp.FileHandle> {
		const h = this.handles.get(nonblock);
		if (h !== undefined) return h;
		try {
			const fh = await fsp.open(this.device, constants.O_RDWR | (nonblock ? constants.O_NONBLOCK : 0));
			this.handles.set(nonblock, fh);
			return fh;
		} catch (e) {
			throw ioError(e, 'open', this.device);
		}
	}

	call(req: Request, opts: CallOptions = {}): Promise<Reply> {
		return this.queue.run(() => this.doCall(req, opts));
	}

	private async doCall(req: Request, opts: CallOptions): Promise<Reply> {
		const fh = await this.open(opts.nonblock === true);
		let writeErr: unknown;
		try {
			for (const c of req.chunks) {
				let off = 0;
				while (off < c.length) {
					const { bytesWritten } = await fh.write(c, off, c.length - off);
					off += bytesWritten;
				}
			}
		} catch (e) {
			// EBUSY: the module replied before the whole request was written; that reply says more
			writeErr = e;
		}
		const decoder = new ReplyDecoder();
		const buf = new Uint8Array(64 * 1024);
		const read = async (): Promise<Reply> => {
			for (;;) {
				let n: number;
				try {
					({ bytesRead: n } = await fh.read(buf, 0, buf.length, null));
				} catch (e) {
					if ((e as NodeJS.ErrnoException).code === 'EINTR') continue;
					throw ioError(e, 'read', this.device);
				}
				if (n === 0) return decoder.end();
				const r = decoder.push(buf.subarray(0, n));
				if (r !== undefined) return r;
			}
		};
		try {
			const reply = await withTimeout(read(), opts, `no reply from ${this.device}`);
			if (writeErr !== undefined && reply.errno === 0) throw ioError(writeErr, 'write', this.device);
			return reply;
		} catch (e) {
			if (writeErr !== undefined && !(e instanceof TimeoutError)) throw ioError(writeErr, 'write', this.device);
			throw e;
		}
	}

	runIptables(argv: readonly string[], opts: CallOptions = {}): Promise<ProcessResult> {
		const [cmd, ...args] = argv;
		if (cmd === undefined || !isIptablesCommand(cmd)) return Promise.reject(new InternalError(`not an iptables command: ${String(cmd)}`));
		return new Promise((resolve) => {
			execFile(cmd, args, { timeout: opts.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
				const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
				if (e !== null && e.code === 'ENOENT') {
					resolve({ code: 127, signal: null, stdout: '', stderr: `${cmd}: not found` });
					return;
				}
				resolve({
					code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1,
					signal: e?.signal ?? null,
					stdout,
					stderr,
				});
			});
		});
	}

	runCommand(argv: readonly string[], stdin: Uint8Array, opts: CallOptions = {}): Promise<ProcessResult> {
		const [cmd, ...args] = argv;
		if (cmd === undefined) return Promise.reject(new InternalError('runCommand: no command'));
		return new Promise((resolve) => {
			/* no kill on timeout: like the SSH transport, the command is left to finish on its own */
			const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
			const out: Buffer[] = [];
			const err: Buffer[] = [];
			p.stdout.on('data', (b: Buffer) => out.push(b));
			p.stderr.on('data', (b: Buffer) => err.push(b));
			p.stdin.on('error', () => undefined);
			p.once('error', (e: NodeJS.ErrnoException) => resolve({ code: 127, signal: null, stdout: '', stderr: `${cmd}: ${e.code ?? e.message}` }));
			p.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
			p.stdin.end(stdin);
			void opts;
		});
	}

	async close(): Promise<void> {
		for (const h of this.handles.values()) await h.close().catch(() => undefined);
		this.handles.clear();
	}
}

/** Races a promise against the call's timeout and abort signal. */
export function withTimeout<T>(p: Promise<T>, opts: CallOptions, what: string): Promise<T> {
	if (opts.timeoutMs === undefined && opts.signal === undefined) return p;
	return new Promise<T>((resolve, reject) => {
		const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => reject(new TimeoutError(`${what} within ${opts.timeoutMs! / 1000} s`)), opts.timeoutMs);
		const onAbort = (): void => reject(new TimeoutError(`${what}: interrupted`));
		opts.signal?.addEventListener('abort', onAbort, { once: true });
		p.then(resolve, reject).finally(() => {
			if (timer !== undefined) clearTimeout(timer);
			opts.signal?.removeEventListener('abort', onAbort);
		});
	});
}
