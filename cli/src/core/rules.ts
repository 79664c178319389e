/**
 * iptables rules that use nflua: a validated rule model, argv building (never a shell string),
 * and parsing of `iptables -S` output back into rules. Pure.
 *
 * Match:  -m lua --state S [!] --function F [--tcp-payload]   (libxt_lua)
 * Target: -j LUA --state S --function F                       (libxt_LUA)
 */
import { isIptablesCommand, type IptablesCommand } from './bridge.js';
import { UsageError } from './errors.js';
import { parseStateName } from './validate.js';

export type Family = 'ipv4' | 'ipv6';
export type Backend = 'auto' | 'legacy' | 'nft';
export const TABLES = ['filter', 'mangle', 'raw', 'nat', 'security'] as const;
export type Table = (typeof TABLES)[number];
export const BUILTIN_TARGETS = ['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'LOG', 'NFLOG', 'MARK', 'CONNMARK', 'NOTRACK', 'CT'] as const;

export interface RuleSpec {
	family: Family;
	table: Table;
	chain: string;
	/** the state whose functions the rule calls */
	state: string;
	/** match function (`-m lua`); its result decides whether the target applies */
	match?: { function: string; invert: boolean; tcpPayload: boolean } | undefined;
	/** verdict function (`-j LUA`); otherwise `jump` */
	verdict?: string | undefined;
	/** target when there is no verdict function, e.g. DROP */
	jump?: string | undefined;
	protocol?: string | undefined;
	source?: string | undefined;
	destination?: string | undefined;
	inInterface?: string | undefined;
	outInterface?: string | undefined;
	sport?: string | undefined;
	dport?: string | undefined;
	comment?: string | undefined;
}

const LUA_KEYWORDS = new Set(
	'and break do else elseif end false for function goto if in local nil not or repeat return then true until while'.split(' '),
);

export function parseFunctionName(name: string, option = '--function'): string {
	if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name) || LUA_KEYWORDS.has(name)) {
		throw new UsageError(`${option} '${name}' is not a Lua function name (an identifier of 1-63 characters, not a keyword)`);
	}
	return name;
}

export function parseChain(name: string): string {
	if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,28}$/.test(name)) {
		throw new UsageError(`bad chain name '${name}' (letters, digits, '_', '.', '-'; at most 29 characters)`);
	}
	return name;
}

export function parseTable(name: string): Table {
	if (!(TABLES as readonly string[]).includes(name)) throw new UsageError(`bad table '${name}' (one of ${TABLES.join(', ')})`);
	return name as Table;
}

export function parseTarget(name: string): string {
	if ((BUILTIN_TARGETS as readonly string[]).includes(name)) return name;
	if (name === 'LUA') throw new UsageError(`use --verdict FUNCTION for the LUA target`);
	return parseChain(name); // a user-defined chain
}

function parseProtocol(p: string): string {
	if (!/^(tcp|udp|udplite|icmp|icmpv6|ipv6-icmp|esp|ah|sctp|all|[0-9]{1,3})$/.test(p)) {
		throw new UsageError(`bad protocol '${p}'`);
	}
	return p;
}

function parsePortSpec(p: string, option: string): string {
	const m = /^([0-9]{1,5})(?::([0-9]{1,5}))?$/.exec(p);
	if (m === null || Number(m[1]) > 65535 || (m[2] !== undefined && Number(m[2]) > 65535)) {
		throw new UsageError(`${option} '${p}' is not a port or a range PORT:PORT`);
	}
	return p;
}

function parseInterface(i: string, option: string): string {
	if (!/^!?[A-Za-z0-9_.:@-]{1,15}\+?$/.test(i)) throw new UsageError(`${option} '${i}' is not an interface name`);
	return i;
}

function parseAddress(a: string, family: Family, option: string): string {
	const v4 = /^!?(\d{1,3})(\.\d{1,3}){3}(\/\d{1,2})?$/.test(a);
	const v6 = /^!?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(\/\d{1,3})?$/.test(a);
	const name = /^!?[A-Za-z0-9.-]{1,253}(\/\d{1,3})?$/.test(a) && /[A-Za-z]/.test(a);
	if (family === 'ipv4' && !(v4 || name)) throw new UsageError(`${option} '${a}' is not an IPv4 address or network`);
	if (family === 'ipv6' && !(v6 || name)) throw new UsageError(`${option} '${a}' is not an IPv6 address or network`);
	return a;
}

/** Checks a rule as a whole; returns it with every field validated. */
export function validateRule(r: RuleSpec): RuleSpec {
	parseStateName(r.state);
	parseChain(r.chain);
	parseTable(r.table);
	if (r.match === undefined && r.verdict === undefined) throw new UsageError('a rule needs --function (match) and/or --verdict (LUA target)');
	if (r.match !== undefined) parseFunctionName(r.match.function);
	if (r.verdict !== undefined) parseFunctionName(r.verdict, '--verdict');
	if (r.verdict !== undefined && r.jump !== undefined) throw new UsageError('--verdict and --jump exclude each other');
	if (r.jump !== undefined) parseTarget(r.jump);
	if (r.protocol !== undefined) parseProtocol(r.protocol);
	if ((r.sport !== undefined || r.dport !== undefined) && !['tcp', 'udp', 'udplite', 'sctp'].includes(r.protocol ?? '')) {
		throw new UsageError('--sport/--dport need --protocol tcp, udp, udplite or sctp');
	}
	if (r.sport !== undefined) parsePortSpec(r.sport, '--sport');
	if (r.dport !== undefined) parsePortSpec(r.dport, '--dport');
	if (r.source !== undefined) parseAddress(r.source, r.family, '--source');
	if (r.destination !== undefined) parseAddress(r.destination, r.family, '--destination');
	if (r.inInterface !== undefined) parseInterface(r.inInterface, '--in-interface');
	if (r.outInterface !== undefined) parseInterface(r.outInterface, '--out-interface');
	if (r.comment !== undefined && (r.comment.length > 255 || /[\x00-\x1f\x7f]/.test(r.comment))) {
		throw new UsageError('--comment must be one line of at most 255 characters');
	}
	return r;
}

function negatable(opt: string, v: string): string[] {
	return v.startsWith('!') ? ['!', opt, v.slice(1)] : [opt, v];
}

/** The rule's match and target arguments, in the order `iptables -S` prints them. */
export function ruleArgs(r: RuleSpec): string[] {
	validateRule(r);
	const a: string[] = [];
	if (r.source !== undefined) a.push(...negatable('-s', r.source));
	if (r.destination !== undefined) a.push(...negatable('-d', r.destination));
	if (r.inInterface !== undefined) a.push(...negatable('-i', r.inInterface));
	if (r.outInterface !== undefined) a.push(...negatable('-o', r.outInterface));
	if (r.protocol !== undefined) a.push('-p', r.protocol);
	if (r.sport !== undefined || r.dport !== undefined) {
		a.push('-m', r.protocol ?? 'tcp');
		if (r.sport !== undefined) a.push('--sport', r.sport);
		if (r.dport !== undefined) a.push('--dport', r.dport);
	}
	if (r.comment !== undefined) a.push('-m', 'comment', '--comment', r.comment);
	if (r.match !== undefined) {
		a.push('-m', 'lua', '--state', r.state);
		if (r.match.invert) a.push('!');
		a.push('--function', r.match.function);
		if (r.match.tcpPayload) a.push('--tcp-payload');
	}
	if (r.verdict !== undefined) a.push('-j', 'LUA', '--state', r.state, '--function', r.verdict);
	else a.push('-j', r.jump ?? 'DROP');
	return a;
}

/** The iptables command for a family and backend (auto: the plain command). */
export function iptablesCommand(family: Family, backend: Backend): IptablesCommand {
	const base = family === 'ipv4' ? 'iptables' : 'ip6tables';
	const cmd = backend === 'auto' ? base : `${base}-${backend}`;
	if (!isIptablesCommand(cmd)) throw new Error(`no iptables command for ${family} ${backend}`);
	return cmd;
}

export type RuleAction = 'append' | 'insert' | 'delete' | 'check';

/** Full argv: [iptables, -w, -t, table, -A|-I|-D|-C, chain, (position), ...rule]. */
export function ruleArgv(cmd: IptablesCommand, action: RuleAction, r: RuleSpec, position?: number): string[] {
	const flag = { append: '-A', insert: '-I', delete: '-D', check: '-C' }[action];
	const argv: string[] = [cmd, '-w', '-t', r.table, flag, r.chain];
	if (action === 'insert' && position !== undefined) {
		if (!Number.isInteger(position) || position < 1) throw new UsageError(`--insert needs a position >= 1, not '${position}'`);
		argv.push(String(position));
	}
	return [...argv, ...ruleArgs(r)];
}

export function listArgv(cmd: IptablesCommand, table: Table, chain?: string): string[] {
	return [cmd, '-w', '-t', table, '-S', ...(chain === undefined ? [] : [parseChain(chain)])];
}

/** Backend named by `iptables -V`: "iptables v1.8.7 (nf_tables)" or "(legacy)". */
export function parseIptablesVersion(out: string): { version: string; backend: 'legacy' | 'nft' | 'unknown' } {
	const m = /v([0-9][0-9.]*)/.exec(out);
	const backend = /nf_tables/.test(out) ? 'nft' : /legacy/.test(out) ? 'legacy' : out.trim() !== '' && m !== null ? 'legacy' : 'unknown';
	return { version: m?.[1] ?? 'unknown', backend };
}

/**
 * Splits an `iptables -S` line into words: double-quoted strings with backslash escapes, as
 * iptables prints them (`--state "my.state"`, `--comment "a b"`).
 */
export function splitSaveLine(line: string): string[] {
	const words: string[] = [];
	let i = 0;
	while (i < line.length) {
		while (line[i] === ' ') i++;
		if (i >= line.length) break;
		let w = '';
		let quoted = false;
		while (i < line.length && (quoted || line[i] !== ' ')) {
			const c = line[i] as string;
			if (c === '"') {
				quoted = !quoted;
				i++;
			} else if (c === '\\' && i + 1 < line.length) {
				w += line[i + 1];
				i += 2;
			} else {
				w += c;
				i++;
			}
		}
		words.push(w);
	}
	return words;
}

/** A rule found in `iptables -S` output that calls a Lua state. */
export interface LuaRule {
	family: Family;
	table: Table;
	chain: string;
	state: string;
	match?: { function: string; invert: boolean; tcpPayload: boolean };
	verdict?: string;
	target: string;
	/** the rule's words after "-A CHAIN", as iptables prints them */
	args: string[];
	/** the line as iptables printed it */
	line: string;
}

/** The nflua rules of one `iptables -t TABLE -S` output. */
export function parseRuleList(out: string, family: Family, table: Table): LuaRule[] {
	const rules: LuaRule[] = [];
	for (const line of out.split('\n')) {
		if (!line.startsWith('-A ')) continue;
		const w = splitSaveLine(line);
		const chain = w[1] ?? '';
		const args = w.slice(2);
		let state: string | undefined;
		let match: LuaRule['match'];
		let verdict: string | undefined;
		let target = '';
		for (let i = 0; i < args.length; i++) {
			if (args[i] === '-m' && args[i + 1] === 'lua') {
				const m = { function: '', invert: false, tcpPayload: false };
				for (i += 2; i < args.length && args[i] !== '-m' && args[i] !== '-j' && args[i] !== '-g'; i++) {
					if (args[i] === '--state') state = args[++i];
					else if (args[i] === '!') m.invert = true;
					else if (args[i] === '--function') m.function = args[++i] ?? '';
					else if (args[i] === '--tcp-payload') m.tcpPayload = true;
				}
				i--;
				match = m;
			} else if (args[i] === '-j' || args[i] === '-g') {
				target = args[i + 1] ?? '';
				if (target === 'LUA') {
					for (i += 2; i < args.length; i++) {
						if (args[i] === '--state') state = args[++i];
						else if (args[i] === '--function') verdict = args[++i];
					}
				}
			}
		}
		if (state === undefined) continue;
		const rule: LuaRule = { family, table, chain, state, target, args, line };
		if (match !== undefined) rule.match = match;
		if (verdict !== undefined) rule.verdict = verdict;
		rules.push(rule);
	}
	return rules;
}
