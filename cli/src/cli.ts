/**
 * The yargs program: global options, the command list, and one normalisation of the options
 * before any command runs. `buildCli` makes a fresh parser (tests make one per run).
 */
import yargs, { type Argv } from 'yargs';
import { UsageError } from './core/errors.js';
import { parseTimeout } from './core/validate.js';
import { commands, ruleCommand, ruleSubcommands } from './commands/index.js';
import type { CommandDef, Context, GlobalOptions } from './commands/context.js';
import type { Result } from './output/results.js';
import type { Transport } from './transport/types.js';
import type { TransportOptions } from './transport/index.js';
import { CLI_VERSION } from './version.js';
import { STDIN_ARG } from './commands/input.js';

export interface CliHooks {
	/** makes the transport (tests inject a fake) */
	openTransport(o: TransportOptions): Transport;
	readStdin(): Promise<Uint8Array>;
	log(msg: string): void;
	progress(line: string | null, globals: GlobalOptions): void;
	emit(r: Result, globals: GlobalOptions): void;
	/** told which command runs, for error messages ("execute web") */
	running(what: string, globals: GlobalOptions, transport: () => Transport | undefined): void;
	readonly signal: AbortSignal;
	readonly env: Record<string, string | undefined>;
}

export function globalsOf(a: Record<string, unknown>): GlobalOptions {
	const id = a.identity;
	const str = (v: unknown): string | undefined => (v === undefined || v === '' ? undefined : String(v));
	return {
		host: str(a.host),
		identity: id === undefined ? [] : (Array.isArray(id) ? id : [id]).map(String),
		knownHosts: str(a['known-hosts']),
		acceptNew: a['accept-new'] === true,
		jump: str(a.jump),
		timeoutMs: parseTimeout(a.timeout as number | string) * 1000,
		json: a.json === true,
		device: str(a.device),
		sshConfig: str(a['ssh-config']),
		quiet: a.quiet === true,
		verbose: a.verbose === true,
	};
}

function register(y: Argv, def: CommandDef, hooks: CliHooks, prefix: string): Argv {
	return y.command({
		command: def.command as string,
		describe: def.describe,
		builder: (b: Argv) => def.builder(b),
		handler: async (args: Record<string, unknown>) => {
			const globals = globalsOf(args);
			let transport: Transport | undefined;
			const what = `${prefix}${String(def.command).split(' ')[0] ?? ''}${typeof args.name === 'string' ? ` ${args.name}` : ''}`;
			hooks.running(what, globals, () => transport);
			const ctx: Context = {
				globals,
				transport: () => {
					transport ??= hooks.openTransport({
						host: globals.host,
						identity: globals.identity,
						knownHosts: globals.knownHosts,
						acceptNew: globals.acceptNew,
						jump: globals.jump,
						timeoutMs: globals.timeoutMs,
						device: globals.device,
						sshConfig: globals.sshConfig,
						log: (m) => hooks.log(m),
						verbose: globals.verbose,
					});
					return transport;
				},
				readStdin: () => hooks.readStdin(),
				log: (m) => hooks.log(m),
				progress: (line) => hooks.progress(line, globals),
				signal: hooks.signal,
			};
			try {
				for await (const r of def.run(ctx, args)) hooks.emit(r, globals);
			} finally {
				await transport?.close();
			}
		},
	} as never);
}

/** Global options that take a value (so the word after them is not the command). */
const VALUE_OPTIONS = new Set(['-H', '--host', '-i', '--identity', '--known-hosts', '-J', '--jump', '--timeout', '--device', '-F', '--ssh-config']);
/** Fleet commands read `-i` as the inventory, as Ansible does (the key file is --identity there). */
const FLEET_COMMANDS = new Set(['inventory', 'ping', 'apply']);

/**
 * argv as yargs should see it: a lone '-' (stdin) kept as a positional, and after a fleet
 * command's name `-i FILE` is `--inventory FILE`.
 */
export function preprocessArgv(argv: readonly string[]): string[] {
	/* --json=stream: JSON lines as results come (fleet commands); the flag goes last, where
	 * yargs knows it as the command's (before the command it would take the next word) */
	const stream = argv.includes('--json=stream');
	const out = argv.map((a) => (a === '-' ? STDIN_ARG : a === '--json=stream' ? '--json' : a));
	if (stream) {
		const dd = out.indexOf('--');
		out.splice(dd < 0 ? out.length : dd, 0, '--json-stream');
	}
	let cmd = -1;
	for (let i = 0; i < out.length; i++) {
		const a = out[i] as string;
		if (a === '--') break;
		if (VALUE_OPTIONS.has(a)) i++;
		else if (!a.startsWith('-')) {
			cmd = i;
			break;
		}
	}
	if (cmd < 0 || !FLEET_COMMANDS.has(out[cmd] as string)) return out;
	for (let i = cmd + 1; i < out.length; i++) {
		const a = out[i] as string;
		if (a === '--') break;
		if (a === '-i') out[i] = '--inventory';
		else if (a.startsWith('-i') && !a.startsWith('--')) out[i] = `--inventory=${a.slice(2).replace(/^=/, '')}`;
	}
	return out;
}

/**
 * `scope` 'rule' makes a parser whose commands are those of `rule` (add, del, list) at the top:
 * shell completion uses it for `rule SUB ...`, because yargs completes a nested command that
 * shares its name with a top-level one (`rule list`, `list`) with the top-level one's options.
 */
export function buildCli(argv: readonly string[], hooks: CliHooks, scope: 'all' | 'rule' = 'all'): Argv {
	let y: Argv = yargs(preprocessArgv(argv))
		.scriptName('nfluactl')
		.usage('Usage: $0 [--host [user@]host[:port]] COMMAND [ARGS...]\n\nControl the Lua states of the nflua kernel module: on this machine through /dev/nflua, or on a router over SSH (dropbear and busybox are all it needs).')
		.option('host', { alias: 'H', type: 'string', global: true, default: hooks.env.NFLUA_HOST, defaultDescription: '$NFLUA_HOST, else this machine', describe: 'router to act on over SSH: [user@]host[:port] or a ~/.ssh/config Host' })
		.option('identity', { alias: 'i', type: 'string', global: true, requiresArg: true, describe: 'SSH private key file (repeatable); ssh-agent is used first' })
		.option('known-hosts', { type: 'string', global: true, describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
		.option('accept-new', { type: 'boolean', global: true, describe: 'add an unknown host key to known_hosts (a changed key is always refused)' })
		.option('jump', { alias: 'J', type: 'string', global: true, describe: 'jump host(s): [user@]host[:port][,...]; overrides ProxyJump' })
		.option('timeout', { type: 'number', global: true, default: 15, describe: 'seconds to wait for SSH and for replies' })
		.option('json', { type: 'boolean', global: true, describe: 'machine-readable output (shapes in docs/cli.md)' })
		.option('device', { type: 'string', global: true, default: hooks.env.NFLUA_DEV, defaultDescription: '$NFLUA_DEV, else /dev/nflua', describe: 'control device, here or on the router' })
		.option('ssh-config', { alias: 'F', type: 'string', global: true, describe: 'SSH config file (default ~/.ssh/config)' })
		.option('quiet', { alias: 'q', type: 'boolean', global: true, describe: 'no notices on stderr (errors are still printed)' })
		.option('verbose', { alias: 'v', type: 'boolean', global: true, describe: 'progress on stderr (each SSH hop)' })
		.group(['host', 'identity', 'known-hosts', 'accept-new', 'jump', 'timeout', 'ssh-config', 'device', 'json', 'quiet', 'verbose'], 'Global options:')
		.version('version', 'print the version of nfluactl (the module\'s: nfluactl version)', `nfluactl ${CLI_VERSION}`)
		.help('help')
		.alias('help', 'h')
		.completion('__complete', false)
		.strict()
		.demandCommand(1, 'give a command; see nfluactl --help')
		.recommendCommands()
		.exitProcess(false)
		.showHelpOnFail(false)
		.wrap(Math.min(100, process.stdout.columns ?? 100))
		.epilog(
			'Exit codes: 0 ok, 1 kernel refused, 2 usage, 3 module missing, 4 permission denied, 5 protocol, 6 unreachable, 7 auth failure, 8 host key problem, 9 timeout, 70 internal bug (docs/cli.md).',
		)
		.fail((msg: string | undefined, err: Error | undefined) => {
			if (err !== undefined) throw err;
			throw new UsageError(msg ?? 'bad usage');
		});
	if (scope === 'rule') {
		for (const def of ruleSubcommands) y = register(y, def, hooks, 'rule ');
		return y;
	}
	for (const def of commands) y = register(y, def, hooks, '');
	y = y.command(ruleCommand.command, ruleCommand.describe, (r: Argv) => {
		let rr = r;
		for (const def of ruleSubcommands) rr = register(rr, def, hooks, 'rule ');
		return rr.demandCommand(1, 'give a rule command: add, del or list');
	});
	return y;
}
