// Commands run in-process (a fresh yargs each time) against an in-memory module: output, the
// documented --json shapes, and exit codes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeModule, runCli } from './helpers/fake.mjs';
import { mod } from './helpers/build.mjs';

const { LocalTransport } = await mod('transport/local.js');
const P = await mod('core/protocol.js');
const O = await mod('core/ops.js');

const isNum = (v) => typeof v === 'number';
const STATE_KEYS = ['name', 'maxalloc', 'mem', 'peak', 'budget', 'rules', 'calls', 'errors', 'budget_hits'];

async function json(argv, fake, opts = {}) {
	const r = await runCli(['--json', ...argv], { fake, ...opts });
	assert.equal(r.code, 0, r.stderr);
	return JSON.parse(r.stdout);
}

const scratch = mkdtempSync(join(tmpdir(), 'nfluactl-cmd-'));
let scratchN = 0;
const scratchDir = () => {
	const d = join(scratch, String(scratchN++));
	mkdirSync(d);
	return d;
};
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('commands (in-process, fake module)', () => {
	let fake;
	beforeEach(() => {
		fake = new FakeModule();
	});

	it('version: text and {cli, module, where}', async () => {
		const r = await runCli(['version'], { fake });
		assert.equal(r.stdout, 'nfluactl 0.1.0\nnflua 0.1.0 lua 5.4.7\n');
		assert.deepEqual(await json(['version'], fake), { cli: '0.1.0', module: 'nflua 0.1.0 lua 5.4.7', where: 'local' });
	});
	it('create sends sizes in bytes; {action, state, ok}', async () => {
		assert.deepEqual(await json(['create', 'web', '--maxalloc', '4M', '--budget', '200000'], fake), { action: 'create', state: 'web', ok: true });
		assert.deepEqual(fake.calls[0], { op: 'create', fields: ['web', 'maxalloc=4194304', 'budget=200000'] });
		const again = await runCli(['create', 'web'], { fake });
		assert.equal(again.code, 1);
		assert.match(again.stderr, /^nfluactl: create web: state 'web' exists; pick another name/);
	});
	it('list: a table, or an array of state objects', async () => {
		await runCli(['create', 'web'], { fake });
		await runCli(['create', 'dns'], { fake });
		const r = await runCli(['list'], { fake });
		assert.match(r.stdout, /^NAME +MAXALLOC +MEM +PEAK +BUDGET +RULES +CALLS +ERRORS +BUDGET_HITS\ndns +1048576 /);
		const j = await json(['list'], fake);
		assert.equal(j.length, 2);
		for (const s of j) for (const k of STATE_KEYS) assert.ok(k === 'name' ? typeof s[k] === 'string' : isNum(s[k]), k);
		assert.deepEqual(await json(['list'], new FakeModule()), []);
	});
	it('create --percpu; list adds CPU_CALLS; execute/send --by-cpu', async () => {
		assert.deepEqual(await json(['create', 'pc', '--percpu'], fake), { action: 'create', state: 'pc', ok: true });
		assert.deepEqual(fake.calls.at(-1), { op: 'create', fields: ['pc', 'percpu=1'] });
		await runCli(['create', 'web'], { fake });
		let r = await runCli(['execute', 'pc', '-e', 'return 1, 2'], { fake });
		assert.equal(r.stdout, '1\t2\t1\t2\n', 'without --by-cpu: the replicas one after the other');
		assert.deepEqual(fake.calls.at(-1).fields, ['pc', 'pc', 'return 1, 2']);
		r = await runCli(['execute', 'pc', '--by-cpu', '-e', 'return 1, 2'], { fake });
		assert.equal(r.stdout, 'cpu0\t1\t2\ncpu1\t1\t2\n');
		assert.deepEqual(fake.calls.at(-1).fields, ['pc', 'pc', 'return 1, 2', 'split=1']);
		assert.deepEqual(await json(['execute', 'pc', '--by-cpu', '-e', 'return 7'], fake), {
			state: 'pc',
			cpus: [{ cpu: 0, values: ['7'] }, { cpu: 1, values: ['7'] }],
		});
		assert.deepEqual(await json(['execute', 'web', '--by-cpu', '-e', 'return 7'], fake), { state: 'web', cpus: [{ cpu: 'all', values: ['7'] }] });
		r = await runCli(['execute', 'pc', '--by-cpu', '-e', 'x = 1'], { fake });
		assert.equal(r.stdout, 'cpu0\ncpu1\n', 'no results: one line per CPU');
		fake.states.get('pc').onReceive = true;
		r = await runCli(['send', 'pc', '--by-cpu', 'hi'], { fake });
		assert.equal(r.stdout, 'cpu0\tgot 2 bytes\ncpu1\tgot 2 bytes\n');
		assert.deepEqual(fake.calls.at(-1).fields, ['pc', 'hi', 'split=1']);
		r = await runCli(['list'], { fake });
		assert.match(r.stdout, /^NAME +MAXALLOC +MEM +PEAK +BUDGET +RULES +CALLS +ERRORS +BUDGET_HITS +CPU_CALLS\n/);
		assert.match(r.stdout, /\npc +1048576 +1000 +2000 +100000 +0 +\d+ +0 +0 +0:\d+,1:\d+\nweb +1048576 .* -\n$/);
		const j = await json(['list'], fake);
		assert.equal(j[0].percpu, 2);
		assert.equal(j[0].cpus, '0,1');
		assert.equal(j[1].percpu, undefined);
		const s = await json(['stats', 'pc'], fake);
		assert.equal(s.cpu_mem, '500,500');
	});
	it('--by-cpu: a reply that is not framed is a protocol error', async () => {
		const ops = await mod('core/ops.js');
		const { encodeReply, decodeReply } = await mod('core/protocol.js');
		const reply = (fields) => decodeReply(encodeReply(0, fields));
		const op = ops.executeByCpu('pc', 'pc', 'return 1');
		assert.deepEqual(op.parse(reply(['cpu=3 results=0', 'cpu=5 results=1', 'x'])).map((c) => [c.cpu, c.values.length]), [[3, 0], [5, 1]]);
		assert.throws(() => op.parse(reply(['1'])), /expected 'cpu=N results=K'/);
		assert.throws(() => op.parse(reply(['cpu=0 results=2', 'x'])), /2 results announced, 1 left/);
	});
	it('stats: key=value lines, or an object; the module without NAME', async () => {
		await runCli(['create', 'web'], { fake });
		const r = await runCli(['stats', 'web'], { fake });
		assert.match(r.stdout, /^name=web\nmaxalloc=1048576\n/);
		const j = await json(['stats', 'web'], fake);
		for (const k of [...STATE_KEYS, 'alloc_fails', 'queued', 'dropped']) assert.ok(k in j, k);
		assert.deepEqual(await json(['stats'], fake), { states: 1, all_states: 1, all_mem: 4096, version: '0.1.0' });
	});
	it('execute -e / FILE / -: values TAB-separated, or {state, values}', async () => {
		await runCli(['create', 'web'], { fake });
		let r = await runCli(['execute', 'web', '-e', 'return 2, "x"'], { fake });
		assert.equal(r.stdout, '2\tx\n');
		const dir = scratchDir();
		writeFileSync(join(dir, 'check.lua'), 'return 7');
		assert.deepEqual(await json(['execute', 'web', join(dir, 'check.lua')], fake), { state: 'web', values: ['7'] });
		assert.equal(fake.calls.at(-1).fields[1], 'check.lua');
		r = await runCli(['execute', 'web', '-', '--chunkname', 'stdin.lua'], { fake, stdin: 'return 1' });
		assert.equal(r.stdout, '1\n');
		assert.deepEqual(fake.calls.at(-1).fields, ['web', 'stdin.lua', 'return 1']);
		r = await runCli(['execute', 'web', '-e', 'x = 1'], { fake });
		assert.equal(r.stdout, '');
	});
	it('execute errors: Lua error exit 1 with chunk:line, budget hint, missing file exit 2', async () => {
		await runCli(['create', 'web'], { fake });
		let r = await runCli(['execute', 'web', '-e', 'error()', '--chunkname', 'w.lua'], { fake });
		assert.equal(r.code, 1);
		assert.equal(r.stderr, 'nfluactl: execute web: w.lua:1: boom\n');
		r = await runCli(['--json', 'execute', 'web', '-e', 'while true do end'], { fake });
		assert.equal(r.code, 1);
		assert.deepEqual(JSON.parse(r.stdout).error, {
			kind: 'kernel', exitCode: 1, message: 'instruction budget exhausted (100000 instructions)', hint: 'raise the budget: nfluactl set web --budget N',
			where: 'local', errno: 62, errnoName: 'ETIME', reason: 'budget-exhausted',
		});
		r = await runCli(['execute', 'web', '/nonexistent.lua'], { fake });
		assert.equal(r.code, 2);
		assert.match(r.stderr, /cannot read '\/nonexistent.lua'/);
		r = await runCli(['execute', 'web'], { fake });
		assert.equal(r.code, 2);
		r = await runCli(['execute', 'nosuch', '-e', 'return 1'], { fake });
		assert.equal(r.code, 1);
		assert.match(r.stderr, /no state 'nosuch'; see the states with: nfluactl list/);
	});
	it('send: DATA, -f FILE, -; ENOSYS without on_receive', async () => {
		await runCli(['create', 'web'], { fake });
		let r = await runCli(['send', 'web', 'hello'], { fake });
		assert.equal(r.code, 1);
		assert.match(r.stderr, /no on_receive function; define a global function on_receive/);
		fake.states.get('web').onReceive = true;
		assert.deepEqual(await json(['send', 'web', 'hello'], fake), { state: 'web', values: ['got 5 bytes'] });
		r = await runCli(['send', 'web', '-'], { fake, stdin: 'abc' });
		assert.equal(r.stdout, 'got 3 bytes\n');
	});
	it('receive: messages one per line, or one JSON object per line; --nonblock', async () => {
		await runCli(['create', 'web'], { fake });
		fake.queue.set('web', ['a', 'b c']);
		const r = await runCli(['--json', 'receive', 'web'], { fake });
		assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ state: 'web', message: 'a' }, { state: 'web', message: 'b c' }]);
		const nb = await runCli(['receive', 'web', '--nonblock'], { fake, where: 'root@r:22' });
		assert.equal(nb.code, 1);
		assert.match(nb.stderr, /no message queued/);
		const both = await runCli(['receive', 'web', '--nonblock', '--follow'], { fake });
		assert.equal(both.code, 2);
	});
	it('set and destroy: {action, state, ok}; set needs an option', async () => {
		await runCli(['create', 'web'], { fake });
		assert.deepEqual(await json(['set', 'web', '--budget', '5000'], fake), { action: 'set', state: 'web', ok: true });
		assert.equal((await runCli(['set', 'web'], { fake })).code, 2);
		assert.deepEqual(await json(['destroy', 'web'], fake), { action: 'destroy', state: 'web', ok: true });
		assert.equal((await runCli(['destroy', 'web'], { fake })).code, 1);
	});
	it('rule add/list/del, destroy refused while a rule uses the state', async () => {
		await runCli(['create', 'web'], { fake });
		const add = await json(['rule', 'add', 'FORWARD', '--state', 'web', '--function', 'check_ua', '-p', 'tcp', '--dport', '80'], fake);
		assert.equal(add.action, 'add');
		assert.deepEqual(add.rules[0], {
			family: 'ipv4', command: 'iptables', backend: 'nft', changed: true,
			argv: ['iptables', '-w', '-t', 'filter', '-A', 'FORWARD', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-m', 'lua', '--state', 'web', '--function', 'check_ua', '-j', 'DROP'],
		});
		const again = await json(['rule', 'add', 'FORWARD', '--state', 'web', '--function', 'check_ua', '-p', 'tcp', '--dport', '80'], fake);
		assert.equal(again.rules[0].changed, false);
		const list = await json(['rule', 'list'], fake);
		assert.equal(list.length, 1);
		assert.deepEqual(Object.keys(list[0]).sort(), ['args', 'chain', 'family', 'line', 'match', 'state', 'table', 'target']);
		assert.equal(list[0].state, 'web');
		const text = await runCli(['rule', 'list', '--state', 'web'], { fake });
		assert.match(text.stdout, /^ipv4 filter -A FORWARD .*--function check_ua -j DROP\n$/);
		const d = await runCli(['destroy', 'web'], { fake });
		assert.equal(d.code, 1);
		assert.match(d.stderr, /used by 1 iptables rules; delete its rules first: nfluactl rule list --state web/);
		assert.equal((await json(['rule', 'del', 'FORWARD', '--state', 'web', '--function', 'check_ua', '-p', 'tcp', '--dport', '80'], fake)).action, 'del');
		assert.deepEqual(await json(['rule', 'list'], fake), []);
		assert.equal((await runCli(['destroy', 'web'], { fake })).code, 0);
	});
	it('rule: backend fallback, missing state, bad arguments', async () => {
		fake.missing.add('iptables');
		await runCli(['create', 'web'], { fake });
		const add = await json(['rule', 'add', 'INPUT', '--state', 'web', '--verdict', 'v', '-6', '-4'], fake);
		assert.deepEqual(add.rules.map((r) => r.command), ['iptables-nft', 'ip6tables']);
		const bad = await runCli(['rule', 'add', 'INPUT', '--state', 'nosuch', '--function', 'f'], { fake });
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /lua: no state 'nosuch'/);
		const usage = await runCli(['rule', 'add', 'INPUT', '--state', 'web'], { fake });
		assert.equal(usage.code, 2);
		assert.match(usage.stderr, /Try 'nfluactl rule add --help'/);
		fake.missing.add('iptables-nft').add('iptables-legacy');
		const none = await runCli(['rule', 'list', '-4'], { fake });
		assert.equal(none.code, 2);
		assert.match(none.stderr, /no iptables on local/);
	});
	it('usage errors exit 2 with a pointer to --help; --help and completion exit 0', async () => {
		for (const argv of [[], ['bogus'], ['create'], ['create', 'a/b'], ['create', 'web', '--maxalloc', '1X'], ['list', '--bogus'], ['--timeout', '0', 'list']]) {
			const r = await runCli(argv, { fake });
			assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
			assert.match(r.stderr, /^nfluactl: .*\nTry 'nfluactl .*--help'\.\n$/);
		}
		const h = await runCli(['execute', '--help'], { fake });
		assert.equal(h.code, 0);
		assert.match(h.stdout, /Examples:/);
		for (const c of ['create', 'destroy', 'list', 'execute', 'send', 'receive', 'stats', 'set', 'version', 'completion', 'rule add', 'rule del', 'rule list']) {
			const r = await runCli([...c.split(' '), '--help'], { fake });
			assert.equal(r.code, 0, c);
			assert.match(r.stdout, /Examples:/, c);
		}
		const c = await runCli(['completion'], { fake });
		assert.match(c.stdout, /complete -o bashdefault -o default -F _nfluactl_completions nfluactl/);
		const v = await runCli(['--version'], { fake });
		assert.equal(v.stdout, 'nfluactl 0.1.0\n');
		assert.equal(fake.calls.length, 0);
	});
	it('a reply that does not parse is exit 5; a bug is exit 70', async () => {
		const broken = { transport: () => ({ where: 'local', supportsNonblock: true, call: async () => P.decodeReply(Buffer.from('0 1\nx')), close: async () => {} }) };
		let r = await runCli(['list'], { fake: broken });
		assert.equal(r.code, 5);
		assert.match(r.stderr, /^nfluactl: list: list: expected key=value/);
		const buggy = { transport: () => ({ where: 'local', call: async () => { throw new TypeError('oops'); }, close: async () => {} }) };
		r = await runCli(['list'], { fake: buggy });
		assert.equal(r.code, 70);
		assert.match(r.stderr, /internal error: TypeError: oops.*report this bug/);
	});
});

describe('local transport (file I/O on a stand-in device)', () => {
	// A regular file opened read-write behaves like a one-request conversation: the request is
	// written at offset 0 and the reply is read after it, so the file holds request + reply.
	function tape(req, reply) {
		const dir = scratchDir();
		const p = join(dir, 'nflua');
		writeFileSync(p, Buffer.concat([Buffer.from(P.concat(req.chunks)), Buffer.from(reply)]));
		return p;
	}
	it('writes the request and reads the reply', async () => {
		const op = O.version();
		const t = new LocalTransport(tape(op.request, P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7'])));
		assert.equal(op.parse(await t.call(op.request)), 'nflua 0.1.0 lua 5.4.7');
		await t.close();
	});
	it('sends a large script in several writes', async () => {
		const op = O.execute('web', 'big.lua', Buffer.alloc(3 * 1024 * 1024, 0x20));
		const t = new LocalTransport(tape(op.request, P.encodeReply(0, ['ok'])));
		assert.deepEqual(op.parse(await t.call(op.request)).map(P.text), ['ok']);
		await t.close();
	});
	it('a missing device is exit 3, a truncated reply exit 5', async () => {
		let r = await runCli(['--device', '/nonexistent/nflua', 'list']);
		assert.equal(r.code, 3);
		assert.equal(r.stderr, 'nfluactl: list: /nonexistent/nflua does not exist\n');
		const p = tape(O.list().request, '0 10\nname=');
		r = await runCli(['--device', p, 'list']);
		assert.equal(r.code, 5);
		assert.match(r.stderr, /reply announced 10 bytes, got 5/);
	});
	it('through the CLI with NFLUA_DEV', async () => {
		const p = tape(O.version().request, P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		const r = await runCli(['--json', 'version'], { env: { NFLUA_DEV: p } });
		assert.equal(r.code, 0, r.stderr);
		assert.equal(JSON.parse(r.stdout).module, 'nflua 0.1.0 lua 5.4.7');
	});
});
