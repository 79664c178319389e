// Unit tests of the pure core: protocol, errors, validation, results, rules, bridges,
// known_hosts, ssh config.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mod, ROOT } from './helpers/build.mjs';

const P = await mod('core/protocol.js');
const E = await mod('core/errors.js');
const V = await mod('core/validate.js');
const R = await mod('core/results.js');
const O = await mod('core/ops.js');
const RU = await mod('core/rules.js');
const B = await mod('core/bridge.js');
const KH = await mod('core/knownhosts.js');
const SC = await mod('core/sshconfig.js');
const { CLI_VERSION } = await mod('version.js');

const s = (b) => Buffer.from(b).toString('latin1');

describe('protocol', () => {
	it('encodes a request header and fields back to back', () => {
		const r = P.encodeRequest('create', ['web', 'maxalloc=1048576']);
		assert.equal(s(P.concat(r.chunks)), 'create 3 16\nwebmaxalloc=1048576');
		assert.equal(r.length, 31);
	});
	it('encodes a request without fields', () => {
		assert.equal(s(P.concat(P.encodeRequest('list').chunks)), 'list\n');
	});
	it('is binary-safe (NUL, newlines, non-UTF-8) and counts bytes, not characters', () => {
		const bin = Uint8Array.from([0, 10, 255, 0x41]);
		const r = P.encodeRequest('send', ['é', bin]);
		const d = P.decodeRequest(P.concat(r.chunks));
		assert.equal(d.op, 'send');
		assert.deepEqual([...d.fields[0]], [0xc3, 0xa9]);
		assert.deepEqual([...d.fields[1]], [...bin]);
	});
	it('round-trips every operation through decodeRequest', () => {
		const cases = [
			O.version(), O.list(), O.moduleStats(), O.stats('web'), O.create('web', { maxalloc: 65536, budget: 1000 }),
			O.destroy('web'), O.set('web', { budget: 5 }), O.execute('web', 'x.lua', 'return 1'), O.send('web', 'data'), O.receive('web'),
		];
		for (const op of cases) {
			const d = P.decodeRequest(P.concat(op.request.chunks));
			assert.equal(d.op, op.request.op);
		}
		assert.deepEqual(P.decodeRequest(P.concat(O.set('web', { budget: 5, maxalloc: 65536 }).request.chunks)).fields.map(P.text), ['web', 'maxalloc=65536', 'budget=5']);
	});
	it('refuses more than 8 fields, a header over 255 bytes, a request over 64 MiB', () => {
		assert.throws(() => P.encodeRequest('send', Array(9).fill('x')), E.UsageError);
		assert.throws(() => P.encodeRequest('send', [new Uint8Array(P.MAX_REQUEST)]), /64 MiB/);
		assert.doesNotThrow(() => P.encodeRequest('send', [new Uint8Array(P.MAX_REQUEST - 20)]));
	});
	it('decodes replies given in any pieces', () => {
		const raw = P.encodeReply(0, ['2', 'x', '']);
		for (let cut = 0; cut <= raw.length; cut++) {
			const d = new P.ReplyDecoder();
			assert.equal(d.push(raw.subarray(0, cut)) === undefined, cut < raw.length);
			const r = d.push(raw.subarray(cut)) ?? d.end();
			assert.equal(r.errno, 0);
			assert.deepEqual(r.fields.map(P.text), ['2', 'x', '']);
		}
		for (const chunkSize of [1, 2, 3]) {
			const d = new P.ReplyDecoder();
			let r;
			for (let i = 0; i < raw.length; i += chunkSize) r = d.push(raw.subarray(i, i + chunkSize));
			assert.deepEqual(r.fields.map(P.text), ['2', 'x', '']);
		}
	});
	it('decodes an error reply', () => {
		const r = P.decodeReply(Buffer.from("22 41\nweb:3: attempt to call a nil value (global 'foo')".slice(0, 47)));
		assert.equal(r.errno, 22);
	});
	it('reports malformed replies as protocol errors', () => {
		for (const bad of ['', 'x 1\nab', '0 -1\n', '0 1', '0 5\nabc', '0 1\nab', '0 12345678901\n', `0${' 1'.repeat(P.MAX_REPLY_FIELDS + 1)}\n${'a'.repeat(P.MAX_REPLY_FIELDS + 1)}`, `${'0'.repeat(300)}\n`]) {
			assert.throws(() => P.decodeReply(Buffer.from(bad)), E.ProtocolError, JSON.stringify(bad));
		}
	});
	it('decodes replies of many fields: list of 300 states, the most fields a reply holds', () => {
		const states = Array.from({ length: 300 }, (_, i) => `name=s${i} maxalloc=1048576 mem=0 peak=0 budget=0 rules=0`);
		const raw = P.encodeReply(0, states);
		const d = new P.ReplyDecoder();
		let r;
		for (let i = 0; i < raw.length; i += 100) r = d.push(raw.subarray(i, i + 100));
		assert.deepEqual(r.fields.map(P.text), states);
		assert.equal(P.decodeReply(P.encodeReply(0, Array(P.MAX_REPLY_FIELDS).fill(''))).fields.length, P.MAX_REPLY_FIELDS);
	});
	it('accepts leading zeros in reply numbers (decimal, not octal)', () => {
		assert.deepEqual(P.decodeReply(Buffer.from('00 010\n0123456789')).fields.map(P.text), ['0123456789']);
	});
});

describe('errors: every errno of docs/protocol.md mapped, with its exit code', () => {
	const table = [
		[1, 'EPERM', E.PermissionError, 4],
		[2, 'ENOENT', E.KernelError, 1, 'no-such-state'],
		[4, 'EINTR', E.KernelError, 1, 'interrupted'],
		[7, 'E2BIG', E.KernelError, 1, 'reply-too-big'],
		[11, 'EAGAIN', E.KernelError, 1, 'would-block'],
		[12, 'ENOMEM', E.KernelError, 1, 'out-of-memory'],
		[16, 'EBUSY', E.KernelError, 1, 'busy'],
		[17, 'EEXIST', E.KernelError, 1, 'exists'],
		[22, 'EINVAL', E.KernelError, 1, 'lua-error'],
		[28, 'ENOSPC', E.KernelError, 1, 'too-many-states'],
		[38, 'ENOSYS', E.KernelError, 1, 'no-handler'],
		[62, 'ETIME', E.KernelError, 1, 'budget-exhausted'],
		[71, 'EPROTO', E.ProtocolError, 5],
		[90, 'EMSGSIZE', E.KernelError, 1, 'request-too-big'],
		[95, 'EOPNOTSUPP', E.ProtocolError, 5],
	];
	for (const [errno, name, cls, code, reason] of table) {
		it(`${errno} ${name} -> ${cls.name}, exit ${code}`, () => {
			assert.equal(E.ERRNO_TABLE.get(errno).name, name);
			const e = E.errorFromReply(errno, 'msg', { op: 'execute', state: 'web' });
			assert.ok(e instanceof cls);
			assert.equal(e.exitCode, code);
			assert.equal(E.exitCodeOf(e), code);
			if (reason !== undefined) {
				assert.equal(e.reason, reason);
				assert.equal(e.errnoName, name);
			}
		});
	}
	it('the table has no errno the test does not know', () => {
		assert.deepEqual([...E.ERRNO_TABLE.keys()].sort((a, b) => a - b), table.map((t) => t[0]));
	});
	it('an unknown errno is a kernel refusal (exit 1)', () => {
		const e = E.errorFromReply(99, 'strange', { op: 'list' });
		assert.ok(e instanceof E.KernelError);
		assert.equal(e.exitCode, 1);
		assert.equal(e.reason, 'other');
	});
	it('the exit code table is the documented one', () => {
		assert.deepEqual(E.ExitCode, { OK: 0, KERNEL: 1, USAGE: 2, MODULE_MISSING: 3, PERMISSION: 4, PROTOCOL: 5, UNREACHABLE: 6, AUTH: 7, HOST_KEY: 8, TIMEOUT: 9, FLEET_CHANGED: 10, FLEET_FAILED: 11, FLEET_UNREACHABLE: 12, FLEET_FAILED_AND_UNREACHABLE: 13, INTERNAL: 70 });
		const classes = [[E.UsageError, 2], [E.ModuleMissingError, 3], [E.PermissionError, 4], [E.ProtocolError, 5], [E.UnreachableError, 6], [E.AuthError, 7], [E.TimeoutError, 9], [E.InternalError, 70]];
		for (const [c, code] of classes) assert.equal(new c('x').exitCode, code);
		assert.equal(new E.HostKeyError('changed', 'x').exitCode, 8);
		assert.equal(new E.FleetOutcomeError(12, 'x').exitCode, 12);
		assert.equal(E.exitCodeOf(new Error('plain')), 70);
	});
	it('ops turn error replies into typed errors with hints', () => {
		const op = O.destroy('web');
		assert.throws(() => op.parse({ errno: 16, fields: [Buffer.from("state 'web' is used by 2 iptables rules")] }), (e) => e instanceof E.KernelError && /rule list --state web/.test(e.hint));
		assert.throws(() => O.execute('web', 'w', 'x').parse({ errno: 62, fields: [Buffer.from('instruction budget exhausted')] }), (e) => /--budget/.test(e.hint));
		assert.throws(() => O.list().parse({ errno: 22, fields: [] }), E.ProtocolError);
	});
	it('checks the number of reply fields', () => {
		assert.throws(() => O.create('web').parse({ errno: 0, fields: [Buffer.from('x')] }), /expected 0 reply fields/);
		assert.throws(() => O.version().parse({ errno: 0, fields: [] }), E.ProtocolError);
		assert.equal(O.version().parse({ errno: 0, fields: [Buffer.from('nflua 0.1.0 lua 5.4.7')] }), 'nflua 0.1.0 lua 5.4.7');
	});
});

describe('validation', () => {
	it('state names: 1-63 bytes of printable ASCII without space and /', () => {
		for (const ok of ['web', 'my.state', 'q"s\\t', "it's", '!', '~'.repeat(63)]) assert.equal(V.parseStateName(ok), ok);
		for (const bad of ['', 'a b', 'a/b', 'x'.repeat(64), 'é', 'a\tb', 'a\nb', '\x7f']) assert.throws(() => V.parseStateName(bad), E.UsageError, bad);
	});
	it('sizes: decimal with K, M, G suffixes', () => {
		assert.equal(V.parseSize('65536', '--maxalloc'), 65536);
		assert.equal(V.parseSize('64K', '--maxalloc'), 65536);
		assert.equal(V.parseSize('4m', '--maxalloc'), 4194304);
		assert.equal(V.parseSize('1G', '--maxalloc'), 1073741824);
		assert.equal(V.parseSize('010', '--maxalloc'), 10);
		for (const bad of ['', '1X', '-1', '1.5M', '0x10', 'M', '99999999999', '10G', ' 1']) assert.throws(() => V.parseSize(bad, '--maxalloc'), E.UsageError, bad);
	});
	it('unsigned numbers: at most 10 digits', () => {
		assert.equal(V.parseUint('0000100000', '--budget'), 100000);
		assert.throws(() => V.parseUint('12345678901', '--budget'), /too large/);
		assert.throws(() => V.parseUint('1e3', '--budget'), E.UsageError);
	});
	it('host specs: [user@]host[:port], IPv6 in brackets', () => {
		assert.deepEqual(V.parseHostSpec('root@192.168.1.1:2222'), { user: 'root', host: '192.168.1.1', port: 2222 });
		assert.deepEqual(V.parseHostSpec('router'), { user: undefined, host: 'router', port: undefined });
		assert.deepEqual(V.parseHostSpec('root@[fe80::1]:22'), { user: 'root', host: 'fe80::1', port: 22 });
		assert.deepEqual(V.parseHostSpec('fe80::1'), { user: undefined, host: 'fe80::1', port: undefined });
		for (const bad of ['', '@h', 'h:0', 'h:70000', 'h:x', 'a b']) assert.throws(() => V.parseHostSpec(bad), E.UsageError, bad);
	});
	it('chunk names are one line', () => {
		assert.throws(() => V.parseChunkName(''), E.UsageError);
		assert.throws(() => V.parseChunkName('a\nb'), E.UsageError);
	});
	it('the CLI version is package.json\'s', () => {
		assert.equal(CLI_VERSION, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
	});
});

describe('key=value results', () => {
	it('parses a list line into a typed state', () => {
		const st = R.parseStateInfo('name=web maxalloc=1048576 mem=23040 peak=30112 budget=100000 rules=0 calls=12 errors=1 budget_hits=0');
		assert.deepEqual(st, { name: 'web', maxalloc: 1048576, mem: 23040, peak: 30112, budget: 100000, rules: 0, calls: 12, errors: 1, budget_hits: 0 });
	});
	it('keeps names that look like numbers as strings, and unknown keys', () => {
		const st = R.parseStateInfo('name=007 maxalloc=1 mem=1 peak=1 budget=1 rules=0 calls=0 errors=0 budget_hits=0 new_counter=5');
		assert.equal(st.name, '007');
		assert.equal(st.new_counter, 5);
	});
	it('parses newline-separated stats of a state and of the module', () => {
		const st = R.parseStateStats('name=web\nmaxalloc=1\nmem=1\npeak=1\nbudget=1\nrules=0\ncalls=0\nerrors=0\nbudget_hits=0\nalloc_fails=0\nqueued=3\ndropped=0\nstack_peak=400\n');
		assert.equal(st.queued, 3);
		assert.equal(st.stack_peak, 400);
		const m = R.parseModuleStats('states=1\nall_states=2\nall_mem=4096\nversion=0.1.0');
		assert.deepEqual(m, { states: 1, all_states: 2, all_mem: 4096, version: '0.1.0' });
	});
	it('refuses missing counters and words without =', () => {
		assert.throws(() => R.parseStateInfo('name=web maxalloc=1'), E.ProtocolError);
		assert.throws(() => R.parseKeyValues('name=web garbage'), E.ProtocolError);
		assert.throws(() => R.parseModuleStats('states=x all_states=1 all_mem=1 version=1'), E.ProtocolError);
	});
});

describe('iptables rules', () => {
	const base = { family: 'ipv4', table: 'filter', chain: 'FORWARD', state: 'web', match: { function: 'check_ua', invert: false, tcpPayload: false } };
	it('builds a match rule argv', () => {
		assert.deepEqual(RU.ruleArgv('iptables', 'append', { ...base, protocol: 'tcp', dport: '80' }), [
			'iptables', '-w', '-t', 'filter', '-A', 'FORWARD', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-m', 'lua', '--state', 'web', '--function', 'check_ua', '-j', 'DROP',
		]);
	});
	it('inverts and restricts to TCP payload', () => {
		const a = RU.ruleArgs({ ...base, match: { function: 'f', invert: true, tcpPayload: true }, jump: 'ACCEPT' });
		assert.deepEqual(a, ['-m', 'lua', '--state', 'web', '!', '--function', 'f', '--tcp-payload', '-j', 'ACCEPT']);
	});
	it('builds a LUA target rule, ip6tables, insert position', () => {
		const r = { ...base, family: 'ipv6', match: undefined, verdict: 'verdict', source: '2001:db8::/32' };
		assert.deepEqual(RU.ruleArgv(RU.iptablesCommand('ipv6', 'nft'), 'insert', r, 2), ['ip6tables-nft', '-w', '-t', 'filter', '-I', 'FORWARD', '2', '-s', '2001:db8::/32', '-j', 'LUA', '--state', 'web', '--function', 'verdict']);
	});
	it('keeps hostile values as single argv words (never a shell string)', () => {
		const r = { ...base, state: "it's;$(reboot)", comment: 'a "b" `c` $d' };
		const a = RU.ruleArgs(r);
		assert.ok(a.includes("it's;$(reboot)"));
		assert.ok(a.includes('a "b" `c` $d'));
		const cmd = B.iptablesBridgeCommand(['iptables', ...a]);
		assert.ok(cmd.includes(`'it'\\''s;$(reboot)'`));
	});
	it('validates every part', () => {
		const bad = [
			{ ...base, chain: 'a b' }, { ...base, chain: 'x'.repeat(30) }, { ...base, state: 'a/b' }, { ...base, match: { function: 'end', invert: false, tcpPayload: false } },
			{ ...base, match: { function: '1f', invert: false, tcpPayload: false } }, { ...base, match: undefined }, { ...base, verdict: 'v', jump: 'DROP' },
			{ ...base, jump: 'LUA' }, { ...base, dport: '80' }, { ...base, protocol: 'tcp', dport: '70000' }, { ...base, protocol: 'tcp; reboot' },
			{ ...base, source: '2001:db8::1' }, { ...base, family: 'ipv6', source: '10.0.0.1' }, { ...base, inInterface: 'eth0 x' }, { ...base, comment: 'a\nb' },
			{ ...base, table: 'bogus' },
		];
		for (const r of bad) assert.throws(() => RU.ruleArgs(r), E.UsageError, JSON.stringify(r));
	});
	it('parses -S output, quoted names included, and skips other rules', () => {
		const out = [
			'-P FORWARD ACCEPT',
			'-A FORWARD -p tcp -m tcp --dport 80 -m lua --state web --function check_ua --tcp-payload -j DROP',
			'-A FORWARD -m lua --state "my.state" ! --function _f0 -j ACCEPT',
			'-A FORWARD -j LUA --state "it\\\'s" --function verdict',
			'-A FORWARD -m comment --comment "a b" -j ACCEPT',
		].join('\n');
		const rules = RU.parseRuleList(out, 'ipv4', 'filter');
		assert.equal(rules.length, 3);
		assert.deepEqual(rules[0].match, { function: 'check_ua', invert: false, tcpPayload: true });
		assert.equal(rules[0].target, 'DROP');
		assert.equal(rules[1].state, 'my.state');
		assert.equal(rules[1].match.invert, true);
		assert.equal(rules[2].state, "it's");
		assert.equal(rules[2].verdict, 'verdict');
		assert.equal(rules[2].target, 'LUA');
	});
	it('reads the backend from iptables -V', () => {
		assert.equal(RU.parseIptablesVersion('iptables v1.8.9 (nf_tables)').backend, 'nft');
		assert.equal(RU.parseIptablesVersion('iptables v1.8.9 (legacy)').backend, 'legacy');
		assert.equal(RU.parseIptablesVersion('iptables v1.8.9 (legacy)').version, '1.8.9');
	});
});

describe('bridges', () => {
	it('quotes words for sh', () => {
		assert.equal(B.shQuote('abc'), 'abc');
		assert.equal(B.shQuote(''), "''");
		assert.equal(B.shQuote("a'b"), `'a'\\''b'`);
		assert.equal(B.shQuote('$(x) `y` ;|&'), `'$(x) \`y\` ;|&'`);
	});
	it('accepts only iptables commands', () => {
		assert.throws(() => B.iptablesBridgeCommand(['sh', '-c', 'reboot']));
		assert.throws(() => B.iptablesBridgeCommand([]));
		for (const c of B.IPTABLES_COMMANDS) assert.ok(B.iptablesBridgeCommand([c, '-S']).startsWith('exec sh -c '));
	});
	it('quotes the device path', () => {
		assert.ok(B.deviceBridgeCommand("/tmp/a b'c").endsWith(` nflua-bridge '/tmp/a b'\\''c'`));
	});
});

describe('known_hosts', () => {
	const key1 = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
	const key2 = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
	const b64 = (k) => k.toString('base64');
	const salt = randomBytes(20);
	const hashed = (name) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
	it('parses plain, hashed, marked and commented lines', () => {
		const text = [
			'# comment',
			'',
			`router,192.168.1.1 ssh-ed25519 ${b64(key1)} me@laptop`,
			`${hashed('[10.0.0.1]:2222')} ssh-ed25519 ${b64(key1)}`,
			`@revoked * ssh-ed25519 ${b64(key2)}`,
			'garbage',
		].join('\n');
		const e = KH.parseKnownHosts(text);
		assert.equal(e.length, 3);
		assert.deepEqual(e[0].patterns, ['router', '192.168.1.1']);
		assert.equal(e[0].line, 3);
		assert.ok(e[1].hashed);
		assert.equal(e[2].marker, 'revoked');
	});
	it('matches hashed entries, with [host]:port for other ports', () => {
		const e = KH.parseKnownHosts(`${hashed('[10.0.0.1]:2222')} ssh-ed25519 ${b64(key1)}\n${hashed('router')} ssh-ed25519 ${b64(key1)}`);
		assert.equal(KH.verifyHostKey(e, [KH.knownHostName('10.0.0.1', 2222)], key1).status, 'ok');
		assert.equal(KH.verifyHostKey(e, [KH.knownHostName('10.0.0.1', 22)], key1).status, 'unknown');
		assert.equal(KH.verifyHostKey(e, [KH.knownHostName('ROUTER', 22)], key1).status, 'ok');
	});
	it('says changed for a known host with another key, unknown for an unknown host, revoked for a revoked key', () => {
		const e = KH.parseKnownHosts(`router ssh-ed25519 ${b64(key1)}\n@revoked * ssh-ed25519 ${b64(key2)}`);
		assert.equal(KH.verifyHostKey(e, ['router'], key1).status, 'ok');
		const other = KH.parseKnownHosts(`router ssh-ed25519 ${b64(key1)}`);
		assert.equal(KH.verifyHostKey(other, ['router'], key2).status, 'changed');
		assert.equal(KH.verifyHostKey(other, ['elsewhere'], key2).status, 'unknown');
		assert.equal(KH.verifyHostKey(e, ['router'], key2).status, 'revoked');
	});
	it('wildcards and negation', () => {
		const e = KH.parseKnownHosts(`*.lan,!bad.lan ssh-ed25519 ${b64(key1)}`);
		assert.equal(KH.verifyHostKey(e, ['ap1.lan'], key1).status, 'ok');
		assert.equal(KH.verifyHostKey(e, ['bad.lan'], key1).status, 'unknown');
		assert.ok(KH.wildcardMatch('192.168.1.?', '192.168.1.5'));
		assert.ok(!KH.wildcardMatch('192.168.1.?', '192.168.1.50'));
	});
	it('orders host key algorithms with the known types first', () => {
		assert.equal(KH.hostKeyAlgorithms(['ssh-rsa'])[0], 'rsa-sha2-512');
		assert.equal(KH.hostKeyAlgorithms([])[0], 'ssh-ed25519');
	});
	it('writes lines that parse back (plain and hashed), with fingerprints like ssh-keygen', () => {
		const plain = KH.knownHostsLine('[h]:2222', key1);
		assert.equal(KH.verifyHostKey(KH.parseKnownHosts(plain), ['[h]:2222'], key1).status, 'ok');
		const h = KH.knownHostsLine('h', key1, { salt: randomBytes(20) });
		assert.ok(h.startsWith('|1|'));
		assert.equal(KH.verifyHostKey(KH.parseKnownHosts(h), ['h'], key1).status, 'ok');
		assert.match(KH.fingerprint(key1), /^SHA256:[A-Za-z0-9+/]{43}$/);
		assert.equal(KH.keyTypeOf(key1), 'ssh-ed25519');
	});
});

describe('ssh config', () => {
	const env = { home: '/home/op', localUser: 'op' };
	const text = `
# routers
Host ap-*  !ap-old
    HostName %h.lan
    User root
    Port 2222
    IdentityFile ~/.ssh/routers_%r
Host ap-1
    HostName 10.0.0.1
    ProxyJump jump@bastion:22
Host *
    User nobody
    IdentityFile %d/.ssh/id_ed25519
    ProxyJump none
Match host foo
    User matched
`;
	it('first value wins, IdentityFile accumulates, tokens expand', () => {
		const r = SC.resolveSshConfig(SC.parseSshConfig(text), 'ap-1', env);
		assert.deepEqual(r, {
			alias: 'ap-1', hostName: 'ap-1.lan', user: 'root', port: 2222,
			identityFiles: ['/home/op/.ssh/routers_root', '/home/op/.ssh/id_ed25519'], proxyJump: 'jump@bastion:22',
		});
	});
	it('negated patterns and defaults', () => {
		const r = SC.resolveSshConfig(SC.parseSshConfig(text), 'ap-old', env);
		assert.equal(r.hostName, 'ap-old');
		assert.equal(r.user, 'nobody');
		assert.equal(r.proxyJump, undefined);
	});
	it('Key=value syntax, quotes, Include through the callback', () => {
		const entries = SC.parseSshConfig('Include more.conf\nHost x\n  Port=22', (p) => (p === 'more.conf' ? ['Host x\n  HostName "x.example"'] : []));
		assert.equal(SC.resolveSshConfig(entries, 'x', env).hostName, 'x.example');
	});
});
