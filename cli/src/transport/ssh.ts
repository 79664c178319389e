/**
 * SSH transport: ssh2 `exec` of the fixed device bridge (one request per exec, the request on
 * the channel's stdin) and of the fixed iptables bridge. Host keys are checked against
 * known_hosts; ~/.ssh/config is honoured; ssh-agent first, then key files.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as ClientT, ClientChannel, ConnectConfig } from 'ssh2';
import { BRIDGE_EXIT, deviceBridgeCommand, iptablesBridgeCommand, shQuote } from '../core/bridge.js';
import {
	AuthError,
	HostKeyError,
	InternalError,
	ModuleMissingError,
	NfluaError,
	PermissionError,
	ProtocolError,
	TimeoutError,
	UnreachableError,
	UsageError,
} from '../core/errors.js';
import {
	fingerprint,
	hostKeyAlgorithms,
	keyTypeOf,
	knownHostName,
	knownHostsLine,
	knownKeyTypes,
	parseKnownHosts,
	verifyHostKey,
	type KnownHost,
} from '../core/knownhosts.js';
import { ReplyDecoder, type Reply, type Request } from '../core/protocol.js';
import { parseHostSpec, type HostSpec } from '../core/validate.js';
import { DEFAULT_DEVICE } from './local.js';
import { loadResolvedHost, localUser } from './sshconfig-loader.js';
import { CallQueue, type CallOptions, type ProcessResult, type Transport } from './types.js';

const { Client, utils } = ssh2;

export interface SshOptions {
	readonly host: HostSpec;
	readonly identityFiles?: readonly string[] | undefined;
	readonly knownHostsFile?: string | undefined;
	readonly acceptNew?: boolean | undefined;
	/** `[user@]host[:port]`, comma-separated for a chain; overrides the config's ProxyJump */
	readonly jump?: string | undefined;
	readonly timeoutMs: number;
	readonly device?: string | undefined;
	readonly sshConfigFile?: string | undefined;
	/** use $SSH_AUTH_SOCK (default true) */
	readonly agent?: boolean | undefined;
	/** notices (a host key added, a key file skipped), to stderr */
	readonly log?: ((msg: string) => void) | undefined;
	/** also report progress (each hop connected) */
	readonly verbose?: boolean | undefined;
	/**
	 * Fleet runs: jump connections shared by every router behind the same jump host (one SSH
	 * session carries many forwarded channels), instead of a new one per router.
	 */
	readonly jumps?: JumpPool | undefined;
}

/** What a pooled jump gives: the last jump's client, and its release when the router is done. */
interface JumpLease {
	readonly client: ClientT;
	readonly via: Hop;
	release(): void;
}

interface PooledJump {
	readonly chain: Promise<{ clients: ClientT[]; last: Hop }>;
	active: number;
	dead: boolean;
}

/**
 * Jump connections shared by the routers of a fleet run. dropbear (OpenWrt's SSH server) drops
 * a client's connections past 5 unauthenticated ones at a time from one address, and opens at
 * most a few dozen channels per session: so at most CHANNELS routers share one connection, and
 * more connections are opened as needed. A connection that fails or closes is forgotten (the
 * next try opens a new one). close() ends them all.
 */
export class JumpPool {
	static readonly CHANNELS = 24;
	private readonly pools = new Map<string, PooledJump[]>();

	async lease(key: string, open: () => Promise<{ clients: ClientT[]; last: Hop }>): Promise<JumpLease> {
		let list = this.pools.get(key);
		if (!list) {
			list = [];
			this.pools.set(key, list);
		}
		let pj = list.find((p) => !p.dead && p.active < JumpPool.CHANNELS);
		if (!pj) {
			const chain = open();
			const made: PooledJump = { chain, active: 0, dead: false };
			pj = made;
			list.push(made);
			chain.then(
				({ clients }) => {
					for (const c of clients) c.once('close', () => (made.dead = true));
				},
				() => (made.dead = true),
			);
		}
		pj.active++;
		const held = pj;
		try {
			const { clients, last } = await held.chain;
			if (held.dead) throw new UnreachableError(`the connection to the jump host ${hopLabel(last)} was lost`);
			let released = false;
			return {
				client: clients[clients.length - 1] as ClientT,
				via: last,
				release: () => {
					if (!released) held.active--;
					released = true;
				},
			};
		} catch (e) {
			held.active--;
			throw e;
		}
	}

	async close(): Promise<void> {
		for (const list of this.pools.values()) {
			for (const p of list) {
				try {
					const { clients } = await p.chain;
					for (const c of [...clients].reverse()) c.end();
				} catch {
					/* never connected */
				}
			}
		}
		this.pools.clear();
	}
}

interface Hop {
	readonly alias: string;
	readonly hostName: string;
	readonly user: string;
	readonly port: number;
	readonly identityFiles: readonly string[];
}

function hopLabel(h: Hop): string {
	return `${h.user}@${h.hostName}:${h.port}`;
}

function resolveHop(spec: HostSpec, configFile: string | undefined, extraIdentities: readonly string[]): Hop & { proxyJump: string | undefined } {
	const r = loadResolvedHost(spec.host, configFile);
	return {
		alias: spec.host,
		hostName: r.hostName,
		user: spec.user ?? r.user ?? localUser(),
		port: spec.port ?? r.port ?? 22,
		identityFiles: [...extraIdentities, ...r.identityFiles],
		proxyJump: r.proxyJump,
	};
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

interface LoadedKey {
	readonly path: string;
	readonly data: Buffer;
}

function loadKeys(hop: Hop, explicit: ReadonlySet<string>, log: (m: string) => void): LoadedKey[] {
	const home = homedir();
	const paths = [...hop.identityFiles, ...DEFAULT_KEYS.map((k) => join(home, '.ssh', k))];
	const keys: LoadedKey[] = [];
	for (const p of [...new Set(paths)]) {
		let data: Buffer;
		try {
			data = readFileSync(p);
		} catch (e) {
			if (explicit.has(p)) throw new UsageError(`cannot read key file '${p}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
			continue;
		}
		const parsed = utils.parseKey(data);
		if (parsed instanceof Error) {
			const msg = /encrypted|passphrase/i.test(parsed.message)
				? `key '${p}' is encrypted: load it into ssh-agent (ssh-add ${p})`
				: `key '${p}' cannot be used: ${parsed.message}`;
			if (explicit.has(p)) throw new UsageError(msg);
			log(`${msg}; skipped`);
			continue;
		}
		keys.push({ path: p, data });
	}
	return keys;
}

function shortPath(p: string): string {
	const home = homedir();
	return p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p;
}

export class SshTransport implements Transport {
	readonly where: string;
	readonly supportsNonblock = false;
	private readonly queue = new CallQueue();
	private clients: ClientT[] = [];
	private connecting: Promise<ClientT> | undefined;
	private readonly device: string;
	private readonly log: (msg: string) => void;
	private readonly target: Hop & { proxyJump: string | undefined };
	private lease: JumpLease | undefined;

	constructor(private readonly opts: SshOptions) {
		this.device = opts.device ?? DEFAULT_DEVICE;
		this.log = opts.log ?? (() => undefined);
		this.target = resolveHop(opts.host, opts.sshConfigFile, opts.identityFiles ?? []);
		this.where = hopLabel(this.target);
	}

	/** Whom this transport will reach, after ~/.ssh/config: nothing is connected to know it. */
	get endpoint(): { user: string; host: string; port: number; jump: string | undefined } {
		return { user: this.target.user, host: this.target.hostName, port: this.target.port, jump: this.opts.jump ?? this.target.proxyJump };
	}

	private knownHostsFile(): string {
		return this.opts.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
	}

	private readKnownHosts(): KnownHost[] {
		try {
			return parseKnownHosts(readFileSync(this.knownHostsFile(), 'utf8'));
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
			throw new UsageError(`cannot read ${this.knownHostsFile()}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
		}
	}

	/** Connects (once) through the jump chain to the target. */
	private connect(): Promise<ClientT> {
		this.connecting ??= this.doConnect();
		return this.connecting;
	}

	private async doConnect(): Promise<ClientT> {
		const jumpSpec = this.opts.jump ?? this.target.proxyJump;
		const hops: Hop[] = [];
		if (jumpSpec !== undefined) {
			for (const j of jumpSpec.split(',')) {
				hops.push(resolveHop(parseHostSpec(j.trim(), '--jump'), this.opts.sshConfigFile, this.opts.identityFiles ?? []));
			}
		}
		if (hops.length > 0 && this.opts.jumps !== undefined) {
			const lease = await this.opts.jumps.lease(hops.map(hopLabel).join(','), () => this.connectChain(hops));
			this.lease = lease;
			const client = await this.connectHop(this.target, await forward(lease.client, this.target, lease.via), true);
			this.clients.push(client);
			return client;
		}
		hops.push(this.target);
		let sock: Duplex | undefined;
		for (const [i, hop] of hops.entries()) {
			const client = await this.connectHop(hop, sock, i === hops.length - 1);
			this.clients.push(client);
			const next = hops[i + 1];
			if (next !== undefined) sock = await forward(client, next, hop);
		}
		return this.clients[this.clients.length - 1] as ClientT;
	}

	/** Connects a chain of jump hosts (for the pool); the last one's client forwards to routers. */
	private async connectChain(hops: readonly Hop[]): Promise<{ clients: ClientT[]; last: Hop }> {
		const clients: ClientT[] = [];
		let sock: Duplex | undefined;
		try {
			for (const [i, hop] of hops.entries()) {
				clients.push(await this.connectHop(hop, sock, false));
				const next = hops[i + 1];
				if (next !== undefined) sock = await forward(clients[i] as ClientT, next, hop);
			}
		} catch (e) {
			for (const c of clients.reverse()) c.end();
			throw e;
		}
		return { clients, last: hops[hops.length - 1] as Hop };
	}

	private connectHop(hop: Hop, sock: Duplex | undefined, isTarget: boolean): Promise<ClientT> {
		const label = hopLabel(hop);
		const khFile = this.knownHostsFile();
		const entries = this.readKnownHosts();
		const name = knownHostName(hop.hostName, hop.port);
		let keyProblem: HostKeyError | undefined;
		const explicit = new Set(isTarget ? (this.opts.identityFiles ?? []) : []);
		const keys = loadKeys(hop, explicit, this.log);
		const agentSock = this.opts.agent === false ? undefined : process.env.SSH_AUTH_SOCK;
		const tried: string[] = [];
		const methods: { method: AnyAuthMethod; label: string | undefined }[] = [];
		methods.push({ method: { type: 'none', username: hop.user }, label: undefined });
		if (agentSock !== undefined && agentSock !== '') methods.push({ method: { type: 'agent', username: hop.user, agent: agentSock }, label: 'ssh-agent' });
		for (const k of keys) methods.push({ method: { type: 'publickey', username: hop.user, key: k.data }, label: shortPath(k.path) });

		const verifier = (key: Buffer): boolean => {
			const v = verifyHostKey(entries, [name], key);
			const fp = `${keyTypeOf(key)} ${fingerprint(key)}`;
			if (v.status === 'ok') return true;
			if (v.status === 'revoked') {
				keyProblem = new HostKeyError('revoked', `host key of ${label} (${fp}) is marked @revoked in ${khFile}:${v.entry.line}`, 'do not connect; ask whoever manages the router');
				return false;
			}
			if (v.status === 'changed') {
				const lines = v.entries.map((e) => `${khFile}:${e.line}`).join(', ');
				keyProblem = new HostKeyError(
					'changed',
					`host key of ${label} has CHANGED: it presents ${fp}, ${lines} holds another key; this may be an attack, or the router was reflashed`,
					`check the new key on the router (dropbearkey -y -f /etc/dropbear/dropbear_ed25519_host_key), then remove the old one: ssh-keygen -R '${name}' -f ${khFile}`,
				);
				return false;
			}
			if (this.opts.acceptNew !== true) {
				keyProblem = new HostKeyError(
					'unknown',
					`host key of ${label} is unknown (${fp}), not in ${khFile}`,
					'check the fingerprint on the router, then run again with --accept-new to add it',
				);
				return false;
			}
			try {
				mkdirSync(dirname(khFile), { recursive: true, mode: 0o700 });
				appendFileSync(khFile, `${knownHostsLine(name, key)}\n`, { mode: 0o600 });
			} catch (e) {
				keyProblem = new HostKeyError('unknown', `cannot add the host key of ${label} to ${khFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
				return false;
			}
			this.log(`added the host key of ${label} (${fp}) to ${khFile}`);
			return true;
		};

		const config: ConnectConfig = {
			host: hop.hostName,
			port: hop.port,
			username: hop.user,
			readyTimeout: this.opts.timeoutMs,
			/* a router is given up after --timeout without an answer to the keepalives (at least
			 * 15 s): a router busy with a long transaction (apply) answers late, not never */
			keepaliveInterval: 5000,
			keepaliveCountMax: Math.max(3, Math.ceil(this.opts.timeoutMs / 5000)),
			hostVerifier: verifier,
			algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(entries, [name])) as never },
			authHandler: (_left, _partial, next) => {
				const m = methods.shift();
				if (m === undefined) {
					next(false as never);
					return;
				}
				if (m.label !== undefined) tried.push(m.label);
				next(m.method);
			},
			...(sock === undefined ? {} : { sock }),
		};

		return new Promise<ClientT>((resolve, reject) => {
			const c = new Client();
			let settled = false;
			c.on('ready', () => {
				settled = true;
				c.removeAllListeners('error');
				c.on('error', () => undefined);
				resolve(c);
			});
			c.on('error', (err: Error & { level?: string; code?: string }) => {
				if (settled) return;
				settled = true;
				reject(classifyConnectError(err, label, keyProblem, tried, this.opts.timeoutMs));
			});
			c.on('close', () => {
				if (!settled) {
					settled = true;
					reject(keyProblem ?? new UnreachableError(`connection to ${label} closed during the handshake`));
				}
			});
			/* through a jump host: the forwarded channel ending is this connection lost (ssh2 does
			 * not notice a half-closed stream; the keepalives would only after --timeout) */
			if (sock !== undefined) {
				sock.once('end', () => c.destroy());
				sock.once('close', () => c.destroy());
			}
			if (this.opts.verbose === true) this.log(`connecting to ${label}`);
			c.connect(config);
		});
	}

	call(req: Request, opts: CallOptions = {}): Promise<Reply> {
		return this.queue.run(() => this.doCall(req, opts));
	}

	private async doCall(req: Request, opts: CallOptions): Promise<Reply> {
		const client = await this.connect();
		const decoder = new ReplyDecoder();
		let decodeErr: unknown;
		const res = await execOn(client, deviceBridgeCommand(this.device), req.chunks, opts, this.where, (b) => {
			if (decodeErr !== undefined) return 'stop';
			try {
				decoder.push(b);
			} catch (e) {
				decodeErr = e;
				return 'stop'; // garbage: do not wait for the bridge to end on its own
			}
			return decoder.complete ? 'done' : 'more';
		});
		if (decodeErr !== undefined) throw decodeErr;
		const stderr = res.stderr.trim().split('\n').pop() ?? '';
		const permission = /not permitted|ermission denied/i.test(stderr);
		if (decoder.complete) {
			const reply = decoder.end();
			if (res.code === BRIDGE_EXIT.WRITE_FAILED && reply.errno === 0) throw writeFailed(stderr, permission, this.device, this.where);
			return reply;
		}
		switch (res.code) {
			case BRIDGE_EXIT.NO_DEVICE:
				throw new ModuleMissingError(
					`${this.device} does not exist on ${this.where}`,
					this.device === DEFAULT_DEVICE ? 'is the nflua module loaded? (on the router: modprobe nflua)' : undefined,
				);
			case BRIDGE_EXIT.OPEN_FAILED:
				if (permission) throw new PermissionError(`cannot open ${this.device} on ${this.where}: ${stderrReason(stderr)}`, 'CAP_NET_ADMIN is needed: log in as root');
				throw new ModuleMissingError(`cannot open ${this.device} on ${this.where}: ${stderrReason(stderr)}`);
			case BRIDGE_EXIT.WRITE_FAILED:
				throw writeFailed(stderr, permission, this.device, this.where);
			case 126:
			case 127:
				throw new ProtocolError(`the bridge could not run on ${this.where}: ${stderr}`, 'the router needs a POSIX sh and cat (busybox has both)');
			default:
				break;
		}
		try {
			return decoder.end();
		} catch (e) {
			if (e instanceof ProtocolError && stderr !== '') e.message += ` (bridge: ${stderr})`;
			throw e;
		}
	}

	async runIptables(argv: readonly string[], opts: CallOptions = {}): Promise<ProcessResult> {
		const client = await this.connect();
		const out: Buffer[] = [];
		const res = await execOn(client, iptablesBridgeCommand(argv), [], opts, this.where, (b) => {
			out.push(b);
			return 'more';
		});
		if (res.code === BRIDGE_EXIT.REFUSED) throw new InternalError(`the iptables bridge refused ${argv[0] ?? ''}`);
		return {
			code: res.code === BRIDGE_EXIT.NOT_FOUND ? 127 : res.code,
			signal: res.signal,
			stdout: Buffer.concat(out).toString('utf8'),
			stderr: res.stderr,
		};
	}

	async runCommand(argv: readonly string[], stdin: Uint8Array, opts: CallOptions = {}): Promise<ProcessResult> {
		const client = await this.connect();
		const out: Buffer[] = [];
		const res = await execOn(client, `exec ${argv.map(shQuote).join(' ')}`, [stdin], opts, this.where, (b) => {
			out.push(b);
			return 'more';
		}, false);
		return { code: res.code, signal: res.signal, stdout: Buffer.concat(out).toString('utf8'), stderr: res.stderr };
	}

	/** Ends the connection; a later call connects again. */
	async close(): Promise<void> {
		for (const c of this.clients.reverse()) c.end();
		this.clients = [];
		this.connecting = undefined;
		this.lease?.release();
		this.lease = undefined;
	}
}

function stderrReason(line: string): string {
	return line.replace(/^.*: /, '') || 'failed';
}

function writeFailed(stderr: string, permission: boolean, device: string, where: string): NfluaError {
	if (permission) return new PermissionError(`write to ${device} on ${where}: ${stderrReason(stderr)}`, 'CAP_NET_ADMIN is needed: log in as root');
	return new ProtocolError(`write to ${device} on ${where} failed: ${stderrReason(stderr)}`);
}

function classifyConnectError(err: Error & { level?: string; code?: string }, label: string, keyProblem: HostKeyError | undefined, tried: readonly string[], timeoutMs: number): NfluaError {
	if (keyProblem !== undefined) return keyProblem;
	if (err.level === 'client-authentication') {
		return new AuthError(
			`authentication to ${label} failed (tried: ${tried.length > 0 ? tried.join(', ') : 'none'})`,
			'give a key with -i KEYFILE or load it into ssh-agent, and add its public key to the router (/etc/dropbear/authorized_keys)',
		);
	}
	if (err.level === 'client-timeout' || /timed out/i.test(err.message)) {
		return new TimeoutError(`no SSH answer from ${label} within ${timeoutMs / 1000} s`, 'check the address and port, or raise --timeout');
	}
	const code = err.code ?? '';
	const why: Record<string, string> = {
		ECONNREFUSED: 'connection refused (is dropbear running on that port?)',
		EHOSTUNREACH: 'no route to host',
		ENETUNREACH: 'network unreachable',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name lookup failed (temporary)',
		ECONNRESET: 'connection reset',
		ETIMEDOUT: 'connection timed out',
	};
	if (code === 'ETIMEDOUT') return new TimeoutError(`cannot reach ${label}: ${why[code]}`);
	return new UnreachableError(`cannot reach ${label}: ${why[code] ?? err.message}`);
}

function forward(client: ClientT, next: Hop, via: Hop): Promise<Duplex> {
	return new Promise((resolve, reject) => {
		client.forwardOut('127.0.0.1', 0, next.hostName, next.port, (err, ch) => {
			if (err !== undefined && err !== null) {
				reject(new UnreachableError(`cannot reach ${hopLabel(next)} through ${hopLabel(via)}: ${err.message}`));
				return;
			}
			resolve(ch);
		});
	});
}

interface ExecResult {
	code: number | null;
	signal: string | null;
	stderr: string;
}

/**
 * What the stdout consumer wants: more bytes, or it has all it needs ('done': the bridge should
 * end by itself, it is closed after a grace period if not), or it saw garbage ('stop' now).
 */
type StdoutVerdict = 'more' | 'done' | 'stop';
const DONE_GRACE_MS = 3000;
/** how long a channel asked to close may take before its connection counts as lost */
const CLOSE_WAIT_MS = 10000;

/**
 * Runs one command, writes `stdin` then EOF, streams stdout to `onStdout`. Never throws on a
 * non-zero exit. `sendTerm`: stopping early (timeout, abort, garbage) first sends TERM to the command.
 */
function execOn(client: ClientT, cmd: string, stdin: readonly Uint8Array[], opts: CallOptions, where: string, onStdout: (b: Buffer) => StdoutVerdict, sendTerm = true): Promise<ExecResult> {
	return new Promise<ExecResult>((resolve, reject) => {
		client.exec(cmd, (err, ch: ClientChannel) => {
			if (err !== undefined && err !== null) {
				reject(new UnreachableError(`cannot run the bridge on ${where}: ${err.message}`));
				return;
			}
			let code: number | null = null;
			let signal: string | null = null;
			const errChunks: Buffer[] = [];
			let errLen = 0;
			let timer: NodeJS.Timeout | undefined;
			let failure: NfluaError | undefined;
			let grace: NodeJS.Timeout | undefined;
			let inputSent = false;
			let settled = false;
			let closeWait: NodeJS.Timeout | undefined;
			/* the one end of this exec: its channel closed, or its connection gone (a channel
			 * of a dead connection never closes: through a jump host a killed session leaves the
			 * forwarded stream half-open, and only the keepalives notice, as a client error) */
			const settle = (): void => {
				if (settled) return;
				settled = true;
				for (const t of [timer, grace, closeWait]) if (t !== undefined) clearTimeout(t);
				opts.signal?.removeEventListener('abort', onAbort);
				client.removeListener('close', onClientGone);
				client.removeListener('error', onClientGone);
				if (failure !== undefined) reject(failure);
				else resolve({ code, signal, stderr: Buffer.concat(errChunks).toString('utf8') });
			};
			const stop = (e: TimeoutError | undefined): void => {
				if (e !== undefined) {
					e.inputSent = inputSent;
					failure ??= e;
				}
				if (sendTerm) signalChannel(ch, 'TERM');
				ch.close();
				/* a channel that does not close when asked: its connection is gone */
				closeWait ??= setTimeout(() => {
					if (failure === undefined) {
						const lost = new UnreachableError(`connection to ${where} lost (the channel did not close)`);
						lost.inputSent = inputSent;
						failure = lost;
					}
					settle();
				}, CLOSE_WAIT_MS);
			};
			if (opts.timeoutMs !== undefined) timer = setTimeout(() => stop(new TimeoutError(`no reply from ${where} within ${opts.timeoutMs! / 1000} s`)), opts.timeoutMs);
			const onAbort = (): void => stop(new TimeoutError(`interrupted`));
			opts.signal?.addEventListener('abort', onAbort, { once: true });
			ch.on('data', (b: Buffer) => {
				const v = onStdout(b);
				if (v === 'stop') stop(undefined);
				else if (v === 'done' && grace === undefined) grace = setTimeout(() => stop(undefined), DONE_GRACE_MS);
			});
			ch.stderr.on('data', (b: Buffer) => {
				if (errLen < 65536) {
					errChunks.push(b);
					errLen += b.length;
				}
			});
			ch.on('exit', (c: number | null, s?: string) => {
				code = c;
				signal = s ?? null;
			});
			function onClientGone(err?: Error): void {
				const lost = new UnreachableError(`connection to ${where} lost${err instanceof Error ? ` (${err.message})` : ''}`);
				lost.inputSent = inputSent;
				failure ??= lost;
				client.destroy();
				settle();
			}
			client.once('close', onClientGone);
			client.once('error', onClientGone);
			ch.on('close', settle);
			void writeAll(ch, stdin).then(() => {
				inputSent = true;
			}, () => undefined);
		});
	});
}

/**
 * Sends an SSH "signal" request. ssh2's `Channel.signal` sends nothing once our side has sent EOF
 * (and the bridge needs that EOF: it ends the request), so this goes one level down, to the
 * protocol object ssh2 keeps on the channel. dropbear delivers the signal to the session's
 * process, which is the bridge's `cat` reading the device.
 */
function signalChannel(ch: ClientChannel, name: string): void {
	const c = ch as unknown as { outgoing?: { id?: number; state?: string }; _client?: { _protocol?: { signal?: (id: number, sig: string) => void } } };
	try {
		const id = c.outgoing?.id;
		const proto = c._client?._protocol;
		if (id !== undefined && c.outgoing?.state !== 'closed' && typeof proto?.signal === 'function') proto.signal(id, name);
		else ch.signal(name);
	} catch {
		/* a server without signals: closing the channel is all we can do */
	}
}

async function writeAll(ch: ClientChannel, chunks: readonly Uint8Array[]): Promise<void> {
	const SLICE = 256 * 1024;
	for (const c of chunks) {
		for (let off = 0; off < c.length; off += SLICE) {
			if (!ch.write(c.subarray(off, off + SLICE))) {
				await new Promise<void>((r) => ch.once('drain', () => r()));
			}
		}
	}
	ch.end();
}

