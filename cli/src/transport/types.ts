/** The one interface every transport implements: the device's request/reply, and iptables. */
import type { Request, Reply } from '../core/protocol.js';

export interface CallOptions {
	/** give up waiting for the reply after this many ms (undefined: wait forever, for receive) */
	readonly timeoutMs?: number | undefined;
	/** abort a waiting call (receive --follow on Ctrl-C) */
	readonly signal?: AbortSignal | undefined;
	/** open the device with O_NONBLOCK (receive --nonblock: EAGAIN instead of waiting) */
	readonly nonblock?: boolean | undefined;
}

/** What a process gave: never throws on a non-zero status (node-ssh's execCommand does the same). */
export interface ProcessResult {
	readonly code: number | null;
	readonly signal: string | null;
	readonly stdout: string;
	readonly stderr: string;
}

export interface Transport {
	/** "local" or "user@host:port", for messages */
	readonly where: string;
	/** true when O_NONBLOCK can be asked for (local device) */
	readonly supportsNonblock: boolean;
	/** Sends one request and returns its reply; one at a time (the device's rule). */
	call(req: Request, opts?: CallOptions): Promise<Reply>;
	/** Runs an iptables argv (argv[0] is one of the iptables commands). */
	runIptables(argv: readonly string[], opts?: CallOptions): Promise<ProcessResult>;
	/**
	 * Runs a fixed command of the router (`nfluactl apply`) with `stdin` as its input. A lost
	 * connection (UnreachableError) or a timeout (TimeoutError) says in `inputSent` whether all
	 * of stdin had gone out.
	 * A timeout or an abort closes the channel without signalling the command (a transaction
	 * must not be killed half-way; the router ignores the hangup once it has begun).
	 */
	runCommand(argv: readonly string[], stdin: Uint8Array, opts?: CallOptions): Promise<ProcessResult>;
	close(): Promise<void>;
}

/** Serialises calls: the device allows one outstanding reply per descriptor. */
export class CallQueue {
	private tail: Promise<unknown> = Promise.resolve();

	run<T>(fn: () => Promise<T>): Promise<T> {
		const next = this.tail.then(fn, fn);
		this.tail = next.catch(() => undefined);
		return next;
	}
}
