/**
 * The one place errors become exit codes, and where results meet stdout. `main` takes its I/O
 * as arguments (tests call it in-process); bin.ts passes the real process.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 kernel refused, 2 usage, 3 module missing, 4 permission
 * denied, 5 protocol, 6 unreachable, 7 auth failure, 8 host key problem, 9 timeout,
 * 70 internal bug, 130 interrupted (Ctrl-C).
 */
import { ExitCode, InternalError, NfluaError, UsageError } from './core/errors.js';
import { buildCli, preprocessArgv, type CliHooks } from './cli.js';
import type { GlobalOptions } from './commands/context.js';
import { errorJson, errorLine, renderHuman, renderJson } from './output/render.js';
import { openTransport as realOpen, type TransportOptions } from './transport/index.js';
import type { Transport } from './transport/types.js';

export interface MainIO {
	readonly argv: readonly string[];
	readonly env: Record<string, string | undefined>;
	stdout(b: Uint8Array): void;
	stderr(s: string): void;
	readStdin(): Promise<Uint8Array>;
	readonly signal: AbortSignal;
	openTransport?: (o: TransportOptions) => Transport;
	/** stderr is a terminal: fleet commands draw a live progress line there */
	readonly stderrIsTTY?: boolean;
}

const BUG_URL = 'please report this bug with the command line and this message (issue tracker of the nflua project)';

/** Runs one command line; returns the exit code. Never throws. */
export async function main(io: MainIO): Promise<number> {
	let what: string | undefined;
	let globals: GlobalOptions | undefined;
	let transport: () => Transport | undefined = () => undefined;
	const enc = new TextEncoder();
	let progressShown = false;
	const hooks: CliHooks = {
		openTransport: io.openTransport ?? realOpen,
		readStdin: io.readStdin,
		log: (m) => {
			if (globals?.quiet === true) return;
			if (progressShown) io.stderr('\r\x1b[K');
			progressShown = false;
			io.stderr(`nfluactl: ${m}\n`);
		},
		progress: (line, g) => {
			if (io.stderrIsTTY !== true || g.quiet) return;
			progressShown = line !== null;
			io.stderr(line === null ? '\r\x1b[K' : `\r\x1b[K${line}`);
		},
		emit: (r, g) => {
			if (progressShown) io.stderr('\r\x1b[K');
			progressShown = false;
			io.stdout(g.json ? renderJson(r) : renderHuman(r));
		},
		running: (w, g, t) => {
			what = w;
			globals = g;
			transport = t;
		},
		signal: io.signal,
		env: io.env,
	};
	try {
		if (io.argv.includes(COMPLETIONS_FLAG)) {
			io.stdout(enc.encode(await completions(io.argv, hooks)));
			return ExitCode.OK;
		}
		const parser = buildCli(io.argv, hooks);
		let helpOut = '';
		await parser.parseAsync(preprocessArgv(io.argv), {}, (err, _argv, output) => {
			if (err === null || err === undefined) helpOut = output;
		});
		if (helpOut !== '') io.stdout(enc.encode(helpOut.endsWith('\n') ? helpOut : `${helpOut}\n`));
		return io.signal.aborted ? 130 : ExitCode.OK;
	} catch (raw) {
		if (io.signal.aborted) return 130;
		const e = toNfluaError(raw);
		e.where ??= transport()?.where;
		if (progressShown) io.stderr('\r\x1b[K');
		/* a fleet whose hosts are all ok but some changed: its recap said it all */
		if (e.kind === 'fleet' && e.exitCode === ExitCode.FLEET_CHANGED) return e.exitCode;
		io.stderr(`${errorLine(e, what)}\n`);
		if (e instanceof UsageError) io.stderr(`Try 'nfluactl ${helpFor(what)}--help'.\n`);
		if (globals?.json === true || (globals === undefined && io.argv.includes('--json'))) io.stdout(enc.encode(`${JSON.stringify(errorJson(e))}\n`));
		return e.exitCode;
	}
}

/** What the completion script (`nfluactl completion`) asks for: candidates for the last word. */
const COMPLETIONS_FLAG = '--get-yargs-completions';

/**
 * yargs 18 drops the completions of nested commands (`rule add|del|list` and their options)
 * when a parse callback collects its output: the output is restored to its value from before
 * the command. Without a callback it writes them with console.log, so collect them there.
 * `rule SUB ...` (SUB not the word being completed) is completed by a parser of rule's
 * subcommands alone (see buildCli's scope).
 */
async function completions(words: readonly string[], hooks: CliHooks): Promise<string> {
	const i = words.indexOf('rule');
	const nested = i >= 0 && i + 2 < words.length && ['add', 'del', 'list'].includes(words[i + 1] ?? '');
	const argv = nested ? [...words.slice(0, i), ...words.slice(i + 1)] : [...words];
	const parser = buildCli(argv, hooks, nested ? 'rule' : 'all');
	const lines: string[] = [];
	const log = console.log;
	console.log = (...a: unknown[]) => {
		lines.push(a.map(String).join(' '));
	};
	try {
		await parser.parseAsync(preprocessArgv(argv));
	} finally {
		console.log = log;
	}
	return lines.map((l) => `${l}\n`).join('');
}

function helpFor(what: string | undefined): string {
	if (what === undefined) return '';
	const words = what.split(' ');
	return `${words.slice(0, words[0] === 'rule' ? 2 : 1).join(' ')} `;
}

function toNfluaError(raw: unknown): NfluaError {
	if (raw instanceof NfluaError) return raw;
	// yargs validation errors (unknown option, missing argument) are usage errors
	if (raw instanceof Error && raw.name === 'YError') return new UsageError(raw.message);
	const msg = raw instanceof Error ? (raw.stack ?? raw.message) : String(raw);
	return new InternalError(`internal error: ${msg.split('\n').slice(0, 3).join(' | ')}`, BUG_URL);
}
