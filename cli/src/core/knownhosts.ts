/**
 * OpenSSH known_hosts: parsing (plain and hashed `|1|salt|hash` host fields, wildcards,
 * negation, `[host]:port`, @revoked), lookup and the verdict on a presented key. Pure (hashing
 * is computation, not I/O).
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHost {
	/** 1-based line number, for messages */
	readonly line: number;
	readonly marker: 'revoked' | 'cert-authority' | undefined;
	/** plain patterns, or undefined for a hashed entry */
	readonly patterns: readonly string[] | undefined;
	readonly hashed: { readonly salt: Buffer; readonly hash: Buffer } | undefined;
	readonly keyType: string;
	readonly key: Buffer;
}

export function parseKnownHosts(textValue: string): KnownHost[] {
	const out: KnownHost[] = [];
	textValue.split('\n').forEach((raw, idx) => {
		const line = raw.trim();
		if (line === '' || line.startsWith('#')) return;
		const words = line.split(/\s+/);
		let marker: KnownHost['marker'];
		if (words[0]?.startsWith('@')) {
			const m = words.shift();
			if (m === '@revoked') marker = 'revoked';
			else if (m === '@cert-authority') marker = 'cert-authority';
			else return;
		}
		const [hosts, keyType, b64] = words;
		if (hosts === undefined || keyType === undefined || b64 === undefined) return;
		if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return;
		const key = Buffer.from(b64, 'base64');
		let patterns: string[] | undefined;
		let hashed: KnownHost['hashed'];
		if (hosts.startsWith('|1|')) {
			const [, , salt, hash] = hosts.split('|');
			if (salt === undefined || hash === undefined) return;
			hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
		} else {
			patterns = hosts.split(',').filter((p) => p !== '');
		}
		out.push({ line: idx + 1, marker, patterns, hashed, keyType, key });
	});
	return out;
}

/** The name known_hosts uses for a host: `host`, or `[host]:port` for another port than 22. */
export function knownHostName(host: string, port: number): string {
	const h = host.toLowerCase();
	return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH's wildcard match: `*` and `?`, case-insensitive. */
export function wildcardMatch(pattern: string, s: string): boolean {
	const re = new RegExp(
		`^${pattern
			.toLowerCase()
			.replace(/[.+^${}()|[\]\\]/g, '\\$&')
			.replace(/\*/g, '.*')
			.replace(/\?/g, '.')}$`,
	);
	return re.test(s.toLowerCase());
}

/** Pattern list with negation: a negated match excludes the entry, else any positive match. */
export function patternListMatch(patterns: readonly string[], name: string): boolean {
	let hit = false;
	for (const p of patterns) {
		if (p.startsWith('!')) {
			if (wildcardMatch(p.slice(1), name)) return false;
		} else if (wildcardMatch(p, name)) {
			hit = true;
		}
	}
	return hit;
}

export function hashHostName(name: string, salt: Buffer): Buffer {
	return createHmac('sha1', salt).update(name).digest();
}

export function entryMatches(e: KnownHost, name: string): boolean {
	if (e.hashed !== undefined) return hashHostName(name, e.hashed.salt).equals(e.hashed.hash);
	return patternListMatch(e.patterns ?? [], name);
}

/** The key type inside an SSH public key blob (its first string). */
export function keyTypeOf(blob: Buffer): string {
	if (blob.length < 4) return 'unknown';
	const n = blob.readUInt32BE(0);
	return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** `SHA256:...` as ssh-keygen -l prints it. */
export function fingerprint(blob: Buffer): string {
	return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
	| { status: 'ok'; entry: KnownHost }
	| { status: 'unknown' }
	| { status: 'changed'; entries: KnownHost[] }
	| { status: 'revoked'; entry: KnownHost };

/**
 * The verdict on a presented key. A key listed @revoked is refused. A host with entries of the
 * same key type but none equal to the key has "changed". A host known only with other key types
 * is "changed" too (we ask the server for the known types first, as OpenSSH does, so reaching
 * this means the server no longer offers them).
 */
export function verifyHostKey(entries: readonly KnownHost[], names: readonly string[], blob: Buffer): HostKeyVerdict {
	const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob));
	if (revoked !== undefined) return { status: 'revoked', entry: revoked };
	const forHost = entries.filter((e) => e.marker === undefined && names.some((n) => entryMatches(e, n)));
	const ok = forHost.find((e) => e.key.equals(blob));
	if (ok !== undefined) return { status: 'ok', entry: ok };
	if (forHost.length === 0) return { status: 'unknown' };
	return { status: 'changed', entries: forHost };
}

/** Key types known for a host, to ask the server for those first. */
export function knownKeyTypes(entries: readonly KnownHost[], names: readonly string[]): string[] {
	const types = entries.filter((e) => e.marker === undefined && names.some((n) => entryMatches(e, n))).map((e) => e.keyType);
	return [...new Set(types)];
}

/** ssh2's host key algorithms, ordered with the known types first. */
export function hostKeyAlgorithms(known: readonly string[]): string[] {
	const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
	const algsOf = (t: string): string[] => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
	const first = known.flatMap(algsOf).filter((a) => all.includes(a));
	return [...new Set([...first, ...all])];
}

/** A known_hosts line for a new key (plain, or hashed when asked). */
export function knownHostsLine(name: string, blob: Buffer, hash?: { salt: Buffer }): string {
	const host = hash === undefined ? name : `|1|${hash.salt.toString('base64')}|${hashHostName(name, hash.salt).toString('base64')}`;
	return `${host} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}
