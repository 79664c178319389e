/**
 * What every command gets: the normalised global options, a lazily opened transport, stdin,
 * a progress logger (stderr) and an abort signal (Ctrl-C). Commands yield results (data); the
 * renderers in output/ turn them into text or JSON.
 */
import type { Argv } from 'yargs';
import type { Transport } from '../transport/types.js';
import type { Result } from '../output/results.js';

export interface GlobalOptions {
	readonly host: string | undefined;
	readonly identity: readonly string[];
	readonly knownHosts: string | undefined;
	readonly acceptNew: boolean;
	readonly jump: string | undefined;
	readonly timeoutMs: number;
	readonly json: boolean;
	readonly device: string | undefined;
	readonly sshConfig: string | undefined;
	readonly quiet: boolean;
	readonly verbose: boolean;
}

export interface Context {
	readonly globals: GlobalOptions;
	/** opens the transport on first use (commands like `completion` never connect) */
	transport(): Transport;
	readStdin(): Promise<Uint8Array>;
	log(msg: string): void;
	/** a live status line on a terminal's stderr (null clears it); nothing when not a terminal */
	progress(line: string | null): void;
	readonly signal: AbortSignal;
}

/** One command: a yargs module whose `run` yields results. */
export interface CommandDef {
	readonly command: string | readonly string[];
	readonly describe: string;
	readonly builder: (y: Argv) => Argv;
	readonly run: (ctx: Context, args: Record<string, unknown>) => AsyncIterable<Result>;
}

/** Per-call timeout for requests that must answer promptly. */
export function callOpts(ctx: Context): { timeoutMs: number; signal: AbortSignal } {
	return { timeoutMs: ctx.globals.timeoutMs, signal: ctx.signal };
}
