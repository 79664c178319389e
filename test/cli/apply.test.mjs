// nfluactl apply, the operator's side: policy validation (schema and beyond, errors naming the
// file and the path), variables rendered as Lua (hostile strings read back by a real Lua
// parser, fengari), the compiled bundle (UCI text, file names, determinism), its tar
// (read back with tar-stream's extractor), and the parser of the router's records.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fengari from 'fengari';
import tarStream from 'tar-stream';
import { mod, spawnCli } from './helpers/build.mjs';

const Pol = await mod('core/policy.js');
const A = await mod('core/apply.js');
const E = await mod('core/errors.js');
const { applyOne } = await mod('commands/apply.js');

const GOOD = `
states:
  - name: web
    maxalloc: 4M
    budget: 200000
    scripts: [lua/http_ua.lua, lua/lists.lua]
    vars:
      BLOCKED: [curl, wget]
      LIMIT: 10
  - name: dns
    percpu: true
    scripts: [dns.lua]
rules:
  - family: any
    chain: forward
    match: -p tcp --dport 80
    tcp_payload: true
    state: web
    function: http_ua_match
  - name: dns_in
    table: mangle
    chain: prerouting
    state: dns
    function: dns_verdict
    mode: target
`;

const script = (p) => new TextEncoder().encode(`-- ${p}\n`);
const text = (b) => new TextDecoder().decode(b);

/** Runs a chunk in fengari and returns the global `name` in a canonical form (strings as hex). */
function luaRead(chunk, name) {
	const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;
	const L = lauxlib.luaL_newstate();
	lualib.luaL_openlibs(L);
	const dump = `
local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end
function __dump(v)
	local t = type(v)
	if t == 'string' then return 's' .. hex(v) end
	if t == 'number' then return 'n' .. string.format('%d', v) end
	if t == 'boolean' then return tostring(v) end
	local keys = {}
	for k in pairs(v) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return __dump(a) < __dump(b) end)
	local out = {}
	for _, k in ipairs(keys) do out[#out + 1] = __dump(k) .. '=' .. __dump(v[k]) end
	return '{' .. table.concat(out, ',') .. '}'
end`;
	for (const c of [dump, chunk]) {
		const st = lauxlib.luaL_loadbuffer(L, typeof c === 'string' ? to_luastring(c) : c, null, to_luastring('vars'));
		if (st !== lua.LUA_OK || lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK) throw new Error(to_jsstring(lua.lua_tostring(L, -1)));
	}
	lua.lua_getglobal(L, to_luastring('__dump'));
	lua.lua_getglobal(L, to_luastring(name));
	if (lua.lua_pcall(L, 1, 1, 0) !== lua.LUA_OK) throw new Error(to_jsstring(lua.lua_tostring(L, -1)));
	return to_jsstring(lua.lua_tostring(L, -1));
}

/** The same canonical form computed in JavaScript. */
function jsDump(v) {
	if (typeof v === 'string') return `s${Buffer.from(v, 'utf8').toString('hex')}`;
	if (typeof v === 'number') return `n${v}`;
	if (typeof v === 'boolean') return String(v);
	const entries = Array.isArray(v) ? v.map((x, i) => [i + 1, x]) : Object.entries(v);
	return `{${entries.map(([k, x]) => [typeof k === 'number' ? `n${k}` : jsDump(k), jsDump(x)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, x]) => `${k}=${x}`).join(',')}}`;
}

async function untar(buf) {
	const ex = tarStream.extract();
	const out = [];
	const done = new Promise((resolve, reject) => {
		ex.on('entry', (h, stream, next) => {
			const chunks = [];
			stream.on('data', (c) => chunks.push(c));
			stream.on('end', () => {
				out.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, mtime: h.mtime.getTime(), data: Buffer.concat(chunks).toString('utf8') });
				next();
			});
		});
		ex.on('finish', resolve);
		ex.on('error', reject);
	});
	ex.end(buf);
	await done;
	return out;
}

describe('apply: policies', () => {
	it('a good policy parses, YAML and JSON alike', () => {
		const p = Pol.parsePolicy(GOOD, 'p.yaml');
		assert.equal(p.states.length, 2);
		assert.deepEqual(Pol.parsePolicy(JSON.stringify(p), 'p.json'), p);
	});

	const bad = [
		['states: [{name: web}]', "p.yaml: states[0]: missing 'scripts'"],
		['states: [{name: web, scripts: [a.lua], colour: red}]', "p.yaml: states[0]: unknown key 'colour'"],
		['states: [{name: "we b", scripts: [a.lua]}]', 'p.yaml: states[0].name: must match pattern'],
		['states: [{name: web, scripts: [a.lua], budget: 0}]', 'p.yaml: states[0].budget: must be >= 1'],
		['states: [{name: web, scripts: [a.lua], maxalloc: 4X}]', 'p.yaml: states[0].maxalloc:'],
		['states: [{name: web, scripts: [a.lua], percpu: 2}]', 'p.yaml: states[0].percpu: must be boolean'],
		['states: [{name: web, scripts: ["my file.lua"]}]', "p.yaml: states[0].scripts[0]: 'my file.lua': name the file"],
		['states: [{name: web, scripts: [a.lua], vars: {end: 1}}]', 'p.yaml: states[0].vars.end: a Lua keyword'],
		['states: [{name: web, scripts: [a.lua], vars: {"1x": 1}}]', "p.yaml: states[0].vars: '1x': not a Lua name"],
		['states: [{name: web, scripts: [a.lua], vars: {X: 1.5}}]', 'p.yaml: states[0].vars.X: must be a string, an integer, a boolean, a list or a map of those'],
		['states: [{name: web, scripts: [a.lua]}, {name: web, scripts: [b.lua]}]', "p.yaml: states[1]: the name 'web' is also states[0]"],
		['states: [{name: web, scripts: [a.lua]}]\nrules: [{state: dns, function: f}]', "p.yaml: rules[0].state: no state 'dns' in the policy"],
		['states: [{name: web, scripts: [a.lua]}]\nrules: [{state: web, function: f, family: v4}]', 'p.yaml: rules[0].family: must be one of "ipv4", "ipv6", "any"'],
		['states: [{name: web, scripts: [a.lua]}]\nrules: [{state: web, function: f, table: raw, chain: forward}]', 'p.yaml: rules[0].chain: the raw table has no forward chain'],
		['states: [{name: web, scripts: [a.lua]}]\nrules: [{state: web, function: f, match: "-p tcp; reboot"}]', 'p.yaml: rules[0].match: must match pattern'],
		['states: [{name: web, scripts: [a.lua]}]\nrules: [{state: web, function: "f()"}]', 'p.yaml: rules[0].function: must match pattern'],
		['states: [{name: web, scripts: [a.lua]}]\nrules: [{state: web, function: f, mode: target, target: DROP}]', "p.yaml: rules[0].target: a rule of mode 'target'"],
		['states: [{name: rule_1, scripts: [a.lua]}]\nrules: [{state: rule_1, function: f}]', "p.yaml: rules[0]: the name 'rule_1' is also states[0]"],
		['states: [{name: web, scripts: [a.lua]}\n', 'p.yaml:'],
		['states: [{name: web, scripts: [a.lua]}]\nstates: []', 'p.yaml:2: not YAML: Map keys must be unique'],
	];
	for (const [src, msg] of bad) {
		it(`refuses ${JSON.stringify(src).slice(0, 70)}`, () => {
			assert.throws(() => Pol.parsePolicy(src, 'p.yaml'), (e) => {
				assert.equal(e.kind, 'usage');
				assert.ok(e.message.startsWith(msg), `${e.message}\n  expected to start with: ${msg}`);
				return true;
			});
		});
	}

	it('values nested too deep are refused before the schema walks them', () => {
		let v = 1;
		for (let i = 0; i < 10000; i++) v = [v];
		assert.throws(() => Pol.checkPolicy({ states: [{ name: 'w', scripts: ['a.lua'], vars: { X: v } }] }, 'p.json'), /nested more than 32 deep/);
	});
});

describe('apply: variables', function () {
	this.timeout(30000);
	const hostile = [
		'"; os.exit() --',
		']] os.exit() --[[',
		'\\"\n os.exit() --',
		'a\0b',
		'\r\n\t\x1b[2J',
		'\u00e9\u4e2d\ud83d\ude00',
		'\\',
		'\\0123',
		"'",
		'',
	];
	it('hostile strings come back byte for byte from a real Lua parser, and run nothing', () => {
		const vars = { S: hostile, M: Object.fromEntries(hostile.map((h, i) => [h, i])), N: -9007199254740991, B: false, E: {}, L: [[1, [2, { k: 'v' }]]] };
		const chunk = Pol.renderVars(vars);
		assert.doesNotMatch(chunk, /os\.exit\(\)[^"]*$/m);
		for (const [k, v] of Object.entries(vars)) {
			if (k === 'N') continue; /* fengari's integers are 32-bit: checked below with a small one */
			assert.equal(luaRead(chunk, k), jsDump(v), k);
		}
		assert.equal(luaRead(Pol.renderVars({ N: -12345 }), 'N'), 'n-12345');
	});

	it('the rendering is stable (names and map keys sorted)', () => {
		assert.equal(Pol.renderVars({ B: { y: 1, x: 2 }, A: 'a' }), Pol.renderVars({ A: 'a', B: { x: 2, y: 1 } }));
	});

	it("the inventory's nflua_vars replace the policy's defaults, name by name", () => {
		const p = Pol.parsePolicy(GOOD, 'p.yaml');
		const v = Pol.hostVars(p, { web: { BLOCKED: ['evil'] } }, 'inv: h1');
		assert.deepEqual(v.get('web'), { BLOCKED: ['evil'], LIMIT: 10 });
		assert.deepEqual(v.get('dns'), {});
		assert.deepEqual(Pol.hostVars(p, undefined, 'inv: h1').get('web'), { BLOCKED: ['curl', 'wget'], LIMIT: 10 });
	});

	const badVars = [
		[{ mail: { X: 1 } }, "inv: h1: nflua_vars.mail: the policy has no state 'mail'"],
		[{ web: { BLOKED: [] } }, 'inv: h1: nflua_vars.web.BLOKED: the policy declares no such variable'],
		[{ web: { LIMIT: 1.5 } }, 'inv: h1: nflua_vars.web.LIMIT: not a string, integer'],
		[{ web: { LIMIT: null } }, 'inv: h1: nflua_vars.web.LIMIT: not a string, integer'],
		[['web'], 'inv: h1: nflua_vars: expected a map'],
		[{ web: 'x' }, 'inv: h1: nflua_vars.web: expected a map'],
	];
	for (const [v, msg] of badVars) {
		it(`refuses nflua_vars ${JSON.stringify(v)}`, () => {
			assert.throws(() => Pol.hostVars(Pol.parsePolicy(GOOD, 'p.yaml'), v, 'inv: h1'), (e) => e.message.startsWith(msg) || assert.fail(e.message));
		});
	}
});

describe('apply: the bundle', () => {
	const p = Pol.parsePolicy(GOOD, 'p.yaml');
	const b = Pol.compilePolicy(p, Pol.hostVars(p, undefined, 'x'), script);

	it('holds the UCI file and the Lua files, named by load order', () => {
		assert.deepEqual(b.files.map((f) => f.path), [
			'etc/config/nflua',
			'etc/nflua/apply/web/00-vars.lua',
			'etc/nflua/apply/web/01-http_ua.lua',
			'etc/nflua/apply/web/02-lists.lua',
			'etc/nflua/apply/dns/01-dns.lua',
		]);
		assert.equal(text(b.files[2].data), '-- lua/http_ua.lua\n');
	});

	it('its UCI file says the policy option for option (docs/uci.md)', () => {
		assert.equal(text(b.files[0].data), `# written by nfluactl apply (docs/policy.md): edits here are replaced by the next apply

config state 'web'
	option enabled '1'
	option maxalloc '4M'
	option budget '200000'
	list script '/etc/nflua/apply/web/00-vars.lua'
	list script '/etc/nflua/apply/web/01-http_ua.lua'
	list script '/etc/nflua/apply/web/02-lists.lua'

config state 'dns'
	option enabled '1'
	option percpu '1'
	list script '/etc/nflua/apply/dns/01-dns.lua'

config rule 'rule_1'
	option enabled '1'
	option family 'any'
	option table 'filter'
	option chain 'forward'
	option match '-p tcp --dport 80'
	option state 'web'
	option function 'http_ua_match'
	option mode 'match'
	option invert '0'
	option tcp_payload '1'
	option target 'DROP'

config rule 'dns_in'
	option enabled '1'
	option family 'ipv4'
	option table 'mangle'
	option chain 'prerouting'
	option state 'dns'
	option function 'dns_verdict'
	option mode 'target'
	option invert '0'
	option tcp_payload '0'
`);
	});

	it('its tar: directories then files, root-owned, mtime 0, the same bytes every time', async () => {
		const t1 = await A.bundleTar(b);
		const t2 = await A.bundleTar(Pol.compilePolicy(p, Pol.hostVars(p, undefined, 'x'), script));
		assert.ok(t1.equals(t2));
		const entries = await untar(t1);
		assert.deepEqual(entries.map((e) => `${e.type} ${e.name}`), [
			'directory etc/', 'directory etc/config/', 'file etc/config/nflua',
			'directory etc/nflua/', 'directory etc/nflua/apply/', 'directory etc/nflua/apply/web/',
			'file etc/nflua/apply/web/00-vars.lua', 'file etc/nflua/apply/web/01-http_ua.lua', 'file etc/nflua/apply/web/02-lists.lua',
			'directory etc/nflua/apply/dns/', 'file etc/nflua/apply/dns/01-dns.lua',
		]);
		for (const e of entries) {
			/* the names the router accepts (/work/apply-interface.md, Changes) */
			assert.match(e.name, /^etc\/(config\/(nflua)?|nflua\/(apply\/([A-Za-z0-9_]+\/([A-Za-z0-9_][A-Za-z0-9_.-]*)?)?)?)?$/);
			assert.equal(e.uid, 0);
			assert.equal(e.mtime, 0);
			assert.equal(e.mode, e.type === 'directory' ? 0o755 : 0o644);
			assert.doesNotMatch(e.name, /^\/|\.\./);
		}
		assert.equal(entries.find((e) => e.name.endsWith('00-vars.lua')).data, Pol.renderVars({ BLOCKED: ['curl', 'wget'], LIMIT: 10 }));
	});

	it("what the router would refuse is refused here: a file over 2 MiB, more than 512 entries", () => {
		assert.throws(() => Pol.compilePolicy(p, Pol.hostVars(p, undefined, 'x'), () => new Uint8Array(2 * 1024 * 1024 + 1)), /bytes; a router takes files of at most 2097152 bytes/);
		const many = Pol.checkPolicy({ states: Array.from({ length: 6 }, (_, i) => ({ name: `s${i}`, scripts: Array.from({ length: 98 }, (_, j) => `f${j}.lua`) })) }, 'p.json');
		assert.throws(() => Pol.compilePolicy(many, Pol.hostVars(many, undefined, 'x'), script), /the bundle would have 599 entries; a router takes at most 512/);
	});

	it('another router with other variables: another vars file, the rest the same', () => {
		const b2 = Pol.compilePolicy(p, Pol.hostVars(p, { web: { LIMIT: 11 } }, 'x'), script);
		const differ = b.files.filter((f, i) => !Buffer.from(f.data).equals(Buffer.from(b2.files[i].data))).map((f) => f.path);
		assert.deepEqual(differ, ['etc/nflua/apply/web/00-vars.lua']);
	});
});

describe("apply: the router's records", () => {
	it('parses changes, diff lines and errors', () => {
		const r = A.parseApplyOutput('nflua-apply 1\nchange state web replace\nchange rules ipv4 filter forward\nchange file /etc/config/nflua\ndiff| --- a\ndiff| +x y\ndiff|\nerror web:3: oops\nsomething new\nresult changed\n', 'r1');
		assert.equal(r.result, 'changed');
		assert.deepEqual(r.changes.map(A.changeText), ['state web replace', 'rules ipv4 filter forward', 'file /etc/config/nflua']);
		assert.deepEqual(r.diff, ['--- a', '+x y', '']);
		assert.deepEqual(r.errors, ['web:3: oops']);
	});
	for (const [out, msg] of [
		['', /did not answer with 'nflua-apply 1'/],
		['nflua-apply 2\nresult ok\n', /did not answer/],
		['nflua-apply 1\nchange state web create\n', /ended without a result line/],
		['nflua-apply 1\nresult maybe\n', /unknown result 'maybe'/],
		['nflua-apply 1\nresult ok\nresult ok\n', /output after the result line/],
	]) {
		it(`refuses ${JSON.stringify(out)}`, () => assert.throws(() => A.parseApplyOutput(out, 'r1'), msg));
	}
	it('the command run on the router is exactly the interface\'s', () => {
		assert.deepEqual(A.routerApplyArgv({ check: false, diff: false }), ['/usr/sbin/nfluactl', 'apply', '-']);
		assert.deepEqual(A.routerApplyArgv({ check: true, diff: true }), ['/usr/sbin/nfluactl', 'apply', '--check', '--diff', '-']);
	});
});

describe('apply: the command line', function () {
	this.timeout(30000);
	const dir = mkdtempSync(join(tmpdir(), 'nfluactl-apply-'));
	it('a bad policy is a usage error naming the file and the path; nothing is contacted', async () => {
		writeFileSync(join(dir, 'p.yaml'), 'states: [{name: web, scripts: [a.lua], budget: -1}]\n');
		const r = await spawnCli(['--host', 'root@192.0.2.1', 'apply', join(dir, 'p.yaml')]);
		assert.equal(r.code, 2, r.stderr);
		assert.match(r.stderr, /p\.yaml: states\[0\]\.budget: must be >= 1/);
	});
	it('a missing Lua file is named with its place in the policy', async () => {
		writeFileSync(join(dir, 'p.yaml'), 'states: [{name: web, scripts: [nothere.lua]}]\n');
		const r = await spawnCli(['--host', 'root@192.0.2.1', 'apply', join(dir, 'p.yaml')]);
		assert.equal(r.code, 2, r.stderr);
		assert.match(r.stderr, /p\.yaml: states\[0\]\.scripts\[0\]: cannot read '.*nothere\.lua': ENOENT/);
	});
	it("an inventory router's bad nflua_vars stop the run before any router is contacted", async () => {
		writeFileSync(join(dir, 'a.lua'), 'X = 1\n');
		writeFileSync(join(dir, 'p.yaml'), 'states: [{name: web, scripts: [a.lua], vars: {LIMIT: 1}}]\n');
		writeFileSync(join(dir, 'inv.ini'), '[r]\nr1 ansible_host=192.0.2.1\nr2 ansible_host=192.0.2.2 nflua_vars="{\'web\': {\'LIMT\': 2}}"\n');
		const r = await spawnCli(['apply', join(dir, 'p.yaml'), '-i', join(dir, 'inv.ini')]);
		assert.equal(r.code, 2, r.stderr);
		assert.match(r.stderr, /inv\.ini: r2: nflua_vars\.web\.LIMT: the policy declares no such variable/);
	});
	it('--limit without an inventory is a usage error', async () => {
		writeFileSync(join(dir, 'p.yaml'), 'states: [{name: web, scripts: [a.lua]}]\n');
		const r = await spawnCli(['--host', 'root@192.0.2.1', 'apply', join(dir, 'p.yaml'), '--limit', 'x']);
		assert.equal(r.code, 2, r.stderr);
		assert.match(r.stderr, /--limit and --shard select routers of an inventory/);
	});
});

describe('apply: one router, the outcomes (a scripted stand-in for the router\'s command)', () => {
	/* each call of runCommand takes the next step: a result, or an error to throw */
	const router = (...steps) => {
		const calls = [];
		const t = {
			where: 'root@r1:22',
			calls,
			async runCommand(argv, stdin) {
				calls.push({ argv, bytes: stdin.length });
				const s = steps.shift();
				if (s instanceof Error) throw s;
				return { signal: null, stderr: '', ...s };
			},
			async close() {},
		};
		return t;
	};
	const lost = (sent) => {
		const e = new E.UnreachableError('connection to root@r1:22 lost');
		e.inputSent = sent;
		return e;
	};
	const tar = Buffer.alloc(1024);
	const o = { check: false, diff: false };
	const sig = new AbortController().signal;

	it('changed: the new policy, the changes listed', async () => {
		const t = router({ code: 0, stdout: 'nflua-apply 1\nchange state web create\nresult changed\n' });
		const r = await applyOne(() => t, tar, o, 1000, sig);
		assert.deepEqual(r, { changed: true, data: { result: 'changed', policy: 'new', changes: ['state web create'] } });
		assert.deepEqual(t.calls, [{ argv: ['/usr/sbin/nfluactl', 'apply', '-'], bytes: 1024 }]);
	});
	it('ok: nothing changed, the router runs the policy (with --check too)', async () => {
		for (const check of [false, true]) {
			const r = await applyOne(() => router({ code: 0, stdout: 'nflua-apply 1\nresult ok\n' }), tar, { check, diff: false }, 1000, sig);
			assert.deepEqual(r, { changed: false, data: { result: 'ok', policy: 'new', changes: [] } });
		}
	});
	it('failed (exit 1): the router\'s error text, the old policy', async () => {
		const t = router({ code: 1, stdout: 'nflua-apply 1\nchange state web replace\nerror /etc/nflua/apply/web/03-b.lua:2: unexpected symbol\nresult failed\n' });
		await assert.rejects(applyOne(() => t, tar, o, 1000, sig), (e) => {
			assert.equal(e.kind, 'apply-failed');
			assert.match(e.message, /^\/etc\/nflua\/apply\/web\/03-b\.lua:2: unexpected symbol \(rolled back/);
			assert.equal(e.data.policy, 'old');
			return true;
		});
	});
	it('a bad bundle (exit 2) and a failed rollback (exit 4) say so', async () => {
		await assert.rejects(applyOne(() => router({ code: 2, stdout: 'nflua-apply 1\nerror bundle: ../x: not allowed\nresult failed\n' }), tar, o, 1000, sig),
			/the router refused the bundle: bundle: \.\.\/x: not allowed \(nothing was touched\)/);
		await assert.rejects(applyOne(() => router({ code: 4, stdout: 'nflua-apply 1\nerror rename back failed\nresult failed\n' }), tar, o, 1000, sig),
			(e) => e.data.policy === 'unknown' && /ROLLBACK FAILED/.test(e.message));
	});
	it('lost before the whole bundle went out: unreachable (retried by the fleet), no second connection', async () => {
		const t = router(lost(false));
		await assert.rejects(applyOne(() => t, tar, o, 1000, sig), (e) => e.kind === 'unreachable');
		assert.equal(t.calls.length, 1);
	});
	it('lost after: a --check on a new connection; ok -> changed, on the new policy', async () => {
		const t = router(lost(true), { code: 0, stdout: 'nflua-apply 1\nresult ok\n' });
		const r = await applyOne(() => t, tar, o, 1000, sig);
		assert.deepEqual(r, { changed: true, data: { result: 'lost', policy: 'new', changes: [], reconnected: true } });
		assert.deepEqual(t.calls.map((c) => c.argv), [['/usr/sbin/nfluactl', 'apply', '-'], ['/usr/sbin/nfluactl', 'apply', '--check', '-']]);
	});
	it('lost after, the check says would-change: failed, on the old policy', async () => {
		const t = router(lost(true), { code: 0, stdout: 'nflua-apply 1\nchange state web replace\nresult would-change\n' });
		await assert.rejects(applyOne(() => t, tar, o, 1000, sig), (e) => {
			assert.equal(e.kind, 'apply-failed');
			assert.deepEqual(e.data, { result: 'lost', policy: 'old', changes: ['state web replace'], reconnected: true });
			assert.match(e.message, /lost during the apply; a check on a new connection found the router on its previous policy/);
			return true;
		});
	});
	it('lost after, and the check fails too: failed, policy unknown', async () => {
		const t = router(lost(true), lost(false));
		await assert.rejects(applyOne(() => t, tar, o, 1000, sig), (e) => e.kind === 'apply-failed' && e.data.policy === 'unknown');
	});
	it('a timeout after the bundle went out is checked the same way', async () => {
		const to = new E.TimeoutError('no reply from root@r1:22 within 1 s');
		to.inputSent = true;
		const t = router(to, { code: 0, stdout: 'nflua-apply 1\nresult ok\n' });
		const r = await applyOne(() => t, tar, o, 1000, sig);
		assert.equal(r.data.policy, 'new');
	});
	it('--check is never retried by a check: a lost --check is unreachable', async () => {
		const t = router(lost(true));
		await assert.rejects(applyOne(() => t, tar, { check: true, diff: false }, 1000, sig), (e) => e.kind === 'unreachable');
	});
	it('no nfluactl on the router (127): failed with the hint to install it', async () => {
		await assert.rejects(applyOne(() => router({ code: 127, stdout: '', stderr: 'sh: /usr/sbin/nfluactl: not found\n' }), tar, o, 1000, sig),
			(e) => /cannot run \/usr\/sbin\/nfluactl/.test(e.message) && /install the nfluactl package/.test(e.hint));
	});
});
