/**
 * Typed errors and the fixed table of exit codes.
 *
 * Every failure nfluactl can report is one of these classes; only cli/src/index.ts turns them
 * into an exit status (`exitCodeOf`). The table is documented in docs/cli.md and must not change
 * meaning: scripts depend on it.
 */

export const ExitCode = {
	OK: 0,
	/** the kernel refused the operation (its message says why) */
	KERNEL: 1,
	/** bad command line: command, option, name, number, unreadable file */
	USAGE: 2,
	/** /dev/nflua is missing or cannot be opened (module not loaded) */
	MODULE_MISSING: 3,
	/** permission denied (CAP_NET_ADMIN is needed) */
	PERMISSION: 4,
	/** a reply or a bridge answer that does not parse */
	PROTOCOL: 5,
	/** the host cannot be reached (DNS, refused, no route, connection lost) */
	UNREACHABLE: 6,
	/** SSH authentication failed */
	AUTH: 7,
	/** SSH host key unknown, changed or revoked */
	HOST_KEY: 8,
	/** no answer in time */
	TIMEOUT: 9,
	/** fleet commands: every host ok, some changed */
	FLEET_CHANGED: 10,
	/** fleet commands: some hosts failed */
	FLEET_FAILED: 11,
	/** fleet commands: some hosts could not be reached (or refused the connection's key) */
	FLEET_UNREACHABLE: 12,
	/** fleet commands: some failed and some could not be reached */
	FLEET_FAILED_AND_UNREACHABLE: 13,
	/** a bug in nfluactl */
	INTERNAL: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: a message (what and why), an optional hint (what to do) and an exit code. */
export abstract class NfluaError extends Error {
	abstract readonly exitCode: ExitCodeValue;
	/** stable machine-readable kind, used in --json error output */
	abstract readonly kind: string;
	hint: string | undefined;
	/** where it happened: "local" or "user@host:port"; set by the caller that knows */
	where: string | undefined;

	constructor(message: string, hint?: string) {
		super(message);
		this.name = new.target.name;
		this.hint = hint;
		this.where = undefined;
	}
}

export class UsageError extends NfluaError {
	readonly exitCode = ExitCode.USAGE;
	readonly kind = 'usage';
}

export class ModuleMissingError extends NfluaError {
	readonly exitCode = ExitCode.MODULE_MISSING;
	readonly kind = 'module-missing';
}

export class PermissionError extends NfluaError {
	readonly exitCode = ExitCode.PERMISSION;
	readonly kind = 'permission';
}

export class ProtocolError extends NfluaError {
	readonly exitCode = ExitCode.PROTOCOL;
	readonly kind = 'protocol';
}

export class UnreachableError extends NfluaError {
	readonly exitCode = ExitCode.UNREACHABLE;
	readonly kind = 'unreachable';
	/** runCommand: the connection was lost after all of the command's input had been sent */
	inputSent = false;
}

export class AuthError extends NfluaError {
	readonly exitCode = ExitCode.AUTH;
	readonly kind = 'auth';
}

export type HostKeyProblem = 'unknown' | 'changed' | 'revoked';

export class HostKeyError extends NfluaError {
	readonly exitCode = ExitCode.HOST_KEY;
	readonly kind = 'host-key';
	constructor(
		readonly problem: HostKeyProblem,
		message: string,
		hint?: string,
	) {
		super(message, hint);
	}
}

export class TimeoutError extends NfluaError {
	readonly exitCode = ExitCode.TIMEOUT;
	readonly kind = 'timeout';
	/** runCommand: the command's input had all been sent when the time ran out */
	inputSent = false;
}

export class InternalError extends NfluaError {
	readonly exitCode = ExitCode.INTERNAL;
	readonly kind = 'internal';
}

/**
 * `nfluactl apply` did not switch a router to the policy: its transaction failed and rolled
 * back, it refused the bundle, or the connection was lost and the router stayed on its previous
 * policy. `data` is the host's record in the recap (which policy it is on, the router's errors).
 */
export class ApplyFailedError extends NfluaError {
	readonly exitCode = ExitCode.KERNEL;
	readonly kind = 'apply-failed';
	constructor(
		message: string,
		readonly data: unknown,
		hint?: string,
	) {
		super(message, hint);
	}
}

/** A command run on the router (iptables) failed; exit 1 like a kernel refusal. */
export class CommandFailedError extends NfluaError {
	readonly exitCode = ExitCode.KERNEL;
	readonly kind = 'command-failed';
	constructor(
		readonly argv: readonly string[],
		readonly status: number | null,
		message: string,
		hint?: string,
	) {
		super(message, hint);
	}
}

/** What a kernel refusal means, by errno; `kind` is stable (JSON output). */
export type KernelReason =
	| 'no-such-state'
	| 'exists'
	| 'busy'
	| 'lua-error'
	| 'out-of-memory'
	| 'too-many-states'
	| 'budget-exhausted'
	| 'reply-too-big'
	| 'request-too-big'
	| 'no-handler'
	| 'would-block'
	| 'interrupted'
	| 'other';

/** The kernel refused the operation: errno and its one-line message (Lua errors: chunk:line). */
export class KernelError extends NfluaError {
	readonly exitCode = ExitCode.KERNEL;
	readonly kind = 'kernel';
	constructor(
		readonly errno: number,
		readonly errnoName: string,
		readonly reason: KernelReason,
		message: string,
		hint?: string,
	) {
		super(message, hint);
	}
}

/**
 * Every errno the module documents (docs/protocol.md), what it means, and which error class it
 * becomes. Anything else is a KernelError with reason "other" (exit 1).
 */
export interface ErrnoInfo {
	readonly name: string;
	/** 'kernel' = KernelError with `reason`; otherwise the class it maps to */
	readonly maps: 'kernel' | 'permission' | 'protocol';
	readonly reason: KernelReason;
	readonly exitCode: ExitCodeValue;
}

const K = (name: string, reason: KernelReason): ErrnoInfo => ({ name, maps: 'kernel', reason, exitCode: ExitCode.KERNEL });

export const ERRNO_TABLE: ReadonlyMap<number, ErrnoInfo> = new Map<number, ErrnoInfo>([
	[1, { name: 'EPERM', maps: 'permission', reason: 'other', exitCode: ExitCode.PERMISSION }],
	[2, K('ENOENT', 'no-such-state')],
	[4, K('EINTR', 'interrupted')],
	[7, K('E2BIG', 'reply-too-big')],
	[11, K('EAGAIN', 'would-block')],
	[12, K('ENOMEM', 'out-of-memory')],
	[16, K('EBUSY', 'busy')],
	[17, K('EEXIST', 'exists')],
	[22, K('EINVAL', 'lua-error')],
	[28, K('ENOSPC', 'too-many-states')],
	[38, K('ENOSYS', 'no-handler')],
	[62, K('ETIME', 'budget-exhausted')],
	[71, { name: 'EPROTO', maps: 'protocol', reason: 'other', exitCode: ExitCode.PROTOCOL }],
	[90, K('EMSGSIZE', 'request-too-big')],
	[95, { name: 'EOPNOTSUPP', maps: 'protocol', reason: 'other', exitCode: ExitCode.PROTOCOL }],
]);

/** Context of a request, for messages: "execute web". */
export interface OpContext {
	readonly op: string;
	readonly state?: string | undefined;
}

function hintFor(reason: KernelReason, ctx: OpContext, message: string): string | undefined {
	const s = ctx.state ?? 'NAME';
	switch (reason) {
		case 'no-such-state':
			return ctx.op === 'create' ? undefined : `see the states with: nfluactl list; create it with: nfluactl create ${s}`;
		case 'exists':
			return `pick another name, or destroy it first: nfluactl destroy ${s}`;
		case 'busy':
			return ctx.op === 'destroy' ? `delete its rules first: nfluactl rule list --state ${s}` : undefined;
		case 'budget-exhausted':
			return `raise the budget: nfluactl set ${s} --budget N`;
		case 'out-of-memory':
			return message.includes('max_mem')
				? 'all states together are at the module limit: free memory in other states, or raise /sys/module/nflua/parameters/max_mem'
				: `raise the memory limit: nfluactl set ${s} --maxalloc SIZE`;
		case 'too-many-states':
			return 'destroy states this network namespace no longer needs, or raise /sys/module/nflua/parameters/max_states';
		case 'no-handler':
			return `define a global function on_receive(data) in the state ${s}`;
		default:
			return undefined;
	}
}

/** Turns an error reply into its typed error. */
export function errorFromReply(errno: number, message: string, ctx: OpContext): NfluaError {
	const info = ERRNO_TABLE.get(errno);
	if (info === undefined) return new KernelError(errno, `errno ${errno}`, 'other', message);
	switch (info.maps) {
		case 'permission':
			return new PermissionError(message, 'CAP_NET_ADMIN is needed (run as root)');
		case 'protocol':
			return new ProtocolError(
				`${info.name}: ${message}`,
				info.name === 'EOPNOTSUPP' ? 'the module does not know this operation: are nfluactl and nflua.ko the same version?' : undefined,
			);
		default:
			return new KernelError(errno, info.name, info.reason, message, hintFor(info.reason, ctx, message));
	}
}

/** Maps anything thrown to an exit code; unknown errors are bugs. */
export function exitCodeOf(err: unknown): ExitCodeValue {
	return err instanceof NfluaError ? err.exitCode : ExitCode.INTERNAL;
}

/**
 * The outcome of a fleet command that was not "every host ok, nothing changed": its results
 * were printed first; this only carries the exit code (and a one-line summary for stderr).
 */
export class FleetOutcomeError extends NfluaError {
	readonly kind = 'fleet';
	constructor(readonly exitCode: ExitCodeValue, message: string, hint?: string) {
		super(message, hint);
	}
}
