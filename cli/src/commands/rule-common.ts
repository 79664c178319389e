/** What rule add, del and list share: options, the rule model from arguments, the iptables to use. */
import type { Argv } from 'yargs';
import { CommandFailedError, UsageError } from '../core/errors.js';
import { iptablesCommand, parseIptablesVersion, parseTable, type Backend, type Family, type RuleSpec } from '../core/rules.js';
import type { IptablesCommand } from '../core/bridge.js';
import type { Transport } from '../transport/types.js';
import { callOpts, type Context } from './context.js';

export function familyOptions(y: Argv): Argv {
	return y
		.option('ipv4', { alias: '4', type: 'boolean', describe: 'IPv4 (iptables); the default for add and del' })
		.option('ipv6', { alias: '6', type: 'boolean', describe: 'IPv6 (ip6tables)' })
		.option('backend', { choices: ['auto', 'legacy', 'nft'] as const, default: 'auto', describe: 'iptables-legacy, iptables-nft, or whatever plain iptables is' })
		.option('table', { alias: 't', type: 'string', describe: 'iptables table (default filter; list: filter, mangle, raw)' });
}

export function ruleOptions(y: Argv): Argv {
	return familyOptions(y)
		.positional('chain', { type: 'string', describe: 'chain, e.g. FORWARD, INPUT, OUTPUT' })
		.option('state', { type: 'string', demandOption: true, describe: 'the Lua state the rule calls' })
		.option('function', { type: 'string', describe: 'match function: returns true when the rule applies (-m lua)' })
		.option('not', { type: 'boolean', default: false, describe: 'invert the match function (! --function)' })
		.option('tcp-payload', { type: 'boolean', default: false, describe: 'match only packets with TCP payload' })
		.option('verdict', { type: 'string', describe: 'verdict function: returns "drop", "accept", ... (-j LUA)' })
		.option('jump', { alias: 'j', type: 'string', describe: 'target when not --verdict (default DROP): ACCEPT, DROP, REJECT, RETURN, LOG or a chain' })
		.option('protocol', { alias: 'p', type: 'string', describe: 'tcp, udp, icmp, ...' })
		.option('sport', { type: 'string', describe: 'source port or PORT:PORT (needs -p)' })
		.option('dport', { type: 'string', describe: 'destination port or PORT:PORT (needs -p)' })
		.option('source', { alias: 's', type: 'string', describe: "source address[/mask], '!' first to negate" })
		.option('destination', { alias: 'd', type: 'string', describe: 'destination address[/mask]' })
		.option('in-interface', { alias: 'in', type: 'string', describe: 'input interface' })
		.option('out-interface', { alias: 'out', type: 'string', describe: 'output interface' })
		.option('comment', { type: 'string', describe: 'a comment stored with the rule (-m comment)' });
}

export function families(a: Record<string, unknown>, dflt: Family[]): Family[] {
	const f: Family[] = [];
	if (a.ipv4 === true) f.push('ipv4');
	if (a.ipv6 === true) f.push('ipv6');
	return f.length > 0 ? f : dflt;
}

const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/** The rule described by the arguments, for one family. */
export function ruleFromArgs(a: Record<string, unknown>, family: Family): RuleSpec {
	const fn = str(a.function);
	return {
		family,
		table: parseTable(str(a.table) ?? 'filter'),
		chain: String(a.chain),
		state: String(a.state),
		match: fn === undefined ? undefined : { function: fn, invert: a.not === true, tcpPayload: a['tcp-payload'] === true },
		verdict: str(a.verdict),
		jump: str(a.jump),
		protocol: str(a.protocol),
		sport: str(a.sport),
		dport: str(a.dport),
		source: str(a.source),
		destination: str(a.destination),
		inInterface: str(a['in-interface']),
		outInterface: str(a['out-interface']),
		comment: str(a.comment),
	};
}

export interface ResolvedIptables {
	command: IptablesCommand;
	backend: string;
}

/**
 * The iptables command for a family: the chosen backend, or (auto) the plain command, falling
 * back to -nft then -legacy when it is missing; `-V` tells which backend it is.
 */
export async function resolveIptables(ctx: Context, t: Transport, family: Family, backend: Backend): Promise<ResolvedIptables | undefined> {
	const candidates: Backend[] = backend === 'auto' ? ['auto', 'nft', 'legacy'] : [backend];
	for (const b of candidates) {
		const command = iptablesCommand(family, b);
		const r = await t.runIptables([command, '-V'], callOpts(ctx));
		if (r.code === 127) continue;
		if (r.code !== 0) throw new CommandFailedError([command, '-V'], r.code, `${command} -V failed: ${lastLine(r.stderr)}`);
		return { command, backend: parseIptablesVersion(r.stdout + r.stderr).backend };
	}
	return undefined;
}

export function noIptables(family: Family, backend: Backend, where: string): UsageError {
	const name = family === 'ipv4' ? 'iptables' : 'ip6tables';
	return new UsageError(
		`no ${backend === 'auto' ? name : `${name}-${backend}`} on ${where}`,
		'install iptables-nft or iptables-zz-legacy and the nflua extensions (iptables-mod-nflua)',
	);
}

export function lastLine(s: string): string {
	return s.trim().split('\n').pop() ?? '';
}

/** Runs an iptables argv and throws CommandFailedError with its message when it fails. */
export async function runChecked(ctx: Context, t: Transport, argv: string[]): Promise<string> {
	const r = await t.runIptables(argv, callOpts(ctx));
	if (r.code !== 0) {
		const msg = lastLine(r.stderr) || `exit status ${String(r.code)}`;
		const hint = /lua/.test(msg) && /No such file|Couldn't load|not found/i.test(msg) ? 'install the nflua iptables extensions (iptables-mod-nflua)' : undefined;
		throw new CommandFailedError(argv, r.code, `${argv[0] ?? 'iptables'}: ${msg}`, hint);
	}
	return r.stdout;
}
