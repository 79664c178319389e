/**
 * ~/.ssh/config: the subset nfluactl honours (Host, HostName, User, Port, IdentityFile,
 * ProxyJump; Include is expanded by the loader through a callback). `Match` blocks are skipped
 * (except `Match all`). First value wins, IdentityFile accumulates, as in OpenSSH. Pure.
 */
import { patternListMatch } from './knownhosts.js';

export interface SshConfigEntry {
	/** Host patterns the entry applies to (undefined: before any Host line, i.e. everywhere) */
	readonly hosts: readonly string[] | undefined;
	/** false inside a Match block we do not evaluate */
	readonly active: boolean;
	readonly key: string;
	readonly value: string;
}

export interface ResolvedHost {
	/** the name given on the command line */
	alias: string;
	hostName: string;
	user: string | undefined;
	port: number | undefined;
	identityFiles: string[];
	proxyJump: string | undefined;
}

/** Splits "Key value", "Key=value", "Key = \"a b\"" into key (lower-case) and value words. */
function splitLine(line: string): [string, string[]] | undefined {
	const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
	if (m === null) return undefined;
	const words: string[] = [];
	const re = /"([^"]*)"|(\S+)/g;
	let w: RegExpExecArray | null;
	while ((w = re.exec(m[2] ?? '')) !== null) words.push(w[1] ?? w[2] ?? '');
	return [(m[1] ?? '').toLowerCase(), words];
}

/**
 * Parses config text. `include(pattern)` returns the texts of the files an Include names (the
 * loader resolves paths and globs); their lines inherit the current Host block.
 */
export function parseSshConfig(textValue: string, include?: (pattern: string) => string[], depth = 0): SshConfigEntry[] {
	const out: SshConfigEntry[] = [];
	let hosts: string[] | undefined;
	let active = true;
	for (const raw of textValue.split('\n')) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) continue;
		const kv = splitLine(line);
		if (kv === undefined) continue;
		const [key, words] = kv;
		if (key === 'host') {
			hosts = words;
			active = true;
		} else if (key === 'match') {
			hosts = undefined;
			active = words.length === 1 && words[0]?.toLowerCase() === 'all';
		} else if (key === 'include') {
			if (include === undefined || depth >= 8) continue;
			for (const w of words) {
				for (const t of include(w)) {
					for (const e of parseSshConfig(t, include, depth + 1)) {
						// an included file's own Host lines replace the includer's block
						out.push(e.hosts === undefined && active ? { ...e, hosts } : e.hosts === undefined ? { ...e, active: false } : e);
					}
				}
			}
		} else {
			out.push({ hosts, active, key, value: words.join(' ') });
		}
	}
	return out;
}

export interface ExpandEnv {
	home: string;
	localUser: string;
}

function expandTokens(s: string, h: { alias: string; hostName: string; user: string; port: number }, env: ExpandEnv): string {
	const t = s.startsWith('~/') ? `${env.home}${s.slice(1)}` : s === '~' ? env.home : s;
	return t.replace(/%([%dhnpru])/g, (_, c: string) => {
		switch (c) {
			case '%':
				return '%';
			case 'd':
				return env.home;
			case 'h':
				return h.hostName;
			case 'n':
				return h.alias;
			case 'p':
				return String(h.port);
			case 'r':
				return h.user;
			default:
				return env.localUser;
		}
	});
}

/** The settings that apply to `alias` (the name as given), with tokens and ~ expanded. */
export function resolveSshConfig(entries: readonly SshConfigEntry[], alias: string, env: ExpandEnv): ResolvedHost {
	const first = new Map<string, string>();
	const identities: string[] = [];
	for (const e of entries) {
		if (!e.active) continue;
		if (e.hosts !== undefined && !patternListMatch(e.hosts, alias)) continue;
		if (e.key === 'identityfile') identities.push(e.value);
		else if (!first.has(e.key)) first.set(e.key, e.value);
	}
	const hostName = (first.get('hostname') ?? alias).replace(/%h/g, alias).replace(/%%/g, '%');
	const portStr = first.get('port');
	const port = portStr !== undefined && /^[0-9]{1,5}$/.test(portStr) ? Number(portStr) : undefined;
	const user = first.get('user');
	const jump = first.get('proxyjump');
	const h = { alias, hostName, user: user ?? env.localUser, port: port ?? 22 };
	return {
		alias,
		hostName,
		user,
		port,
		identityFiles: identities.filter((f) => f.toLowerCase() !== 'none').map((f) => expandTokens(f, h, env)),
		proxyJump: jump === undefined || jump.toLowerCase() === 'none' ? undefined : jump,
	};
}
