/** Reads ~/.ssh/config (and what it Includes) for the pure parser in core/sshconfig. */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { wildcardMatch } from '../core/knownhosts.js';
import { parseSshConfig, resolveSshConfig, type ResolvedHost } from '../core/sshconfig.js';

function readIf(path: string): string | undefined {
	try {
		return readFileSync(path, 'utf8');
	} catch {
		return undefined;
	}
}

/** Include: relative paths are under ~/.ssh; `*` and `?` in the last component are expanded. */
function includeTexts(pattern: string, home: string): string[] {
	let p = pattern.startsWith('~/') ? join(home, pattern.slice(2)) : pattern;
	if (!isAbsolute(p)) p = join(home, '.ssh', p);
	const base = basename(p);
	if (!/[*?]/.test(base)) {
		const t = readIf(p);
		return t === undefined ? [] : [t];
	}
	let names: string[] = [];
	try {
		names = readdirSync(dirname(p)).filter((n) => wildcardMatch(base, n)).sort();
	} catch {
		return [];
	}
	return names.map((n) => readIf(join(dirname(p), n))).filter((t): t is string => t !== undefined);
}

export function localUser(): string {
	try {
		return userInfo().username;
	} catch {
		return process.env.USER ?? 'root';
	}
}

/** Resolves `alias` through the config file (default ~/.ssh/config; missing file: no settings). */
export function loadResolvedHost(alias: string, configFile?: string): ResolvedHost {
	const home = homedir();
	const file = configFile ?? join(home, '.ssh', 'config');
	const text = readIf(file) ?? '';
	const entries = parseSshConfig(text, (pat) => includeTexts(pat, home));
	return resolveSshConfig(entries, alias, { home, localUser: localUser() });
}
