// nfluactl against a real router: QEMU with Debian's 6.1 kernel, nflua.ko, iptables with
// libxt_lua, dropbear and busybox httpd (helpers/router-vm.mjs). Over SSH the node build creates
// a state, loads a User-Agent filter, adds an INPUT rule that calls it, and real HTTP requests
// from this host's curl (through QEMU's port forward) are dropped or answered by the guest's
// kernel; destroy is refused while the rule exists. The x64 single executable runs a subset.
// Last, run.sh must report the guest case passed with a clean kernel log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT } from './helpers/build.mjs';
import { RouterVm } from './helpers/router-vm.mjs';

const SEA = join(ROOT, 'dist', 'nfluactl-linux-x64');
/** routers behind the VM as network namespaces, each with its own dropbear, states, iptables */
const FLEET = 20;
const STATE_KEYS = ['name', 'maxalloc', 'mem', 'peak', 'budget', 'rules', 'calls', 'errors', 'budget_hits'];
const RULE = ['INPUT', '--state', 'web', '--function', 'check_ua', '-p', 'tcp', '--dport', '80'];
const FILTER = `local blocked = { "sqlmap", "evilbot" }

function check_ua(pkt)
	local ua = pkt:payload():match("\\r\\n[Uu]ser%-[Aa]gent: *([^\\r\\n]*)")
	if not ua then return false end
	ua = ua:lower()
	for _, word in ipairs(blocked) do
		if ua:find(word, 1, true) then return true end
	end
	return false
end
return "loaded", #blocked
`;

function run(argv) {
	return new Promise((resolve) => {
		const env = { ...process.env, CI: 'true', FORCE_COLOR: '0' };
		delete env.SSH_AUTH_SOCK;
		delete env.NFLUA_HOST;
		const p = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		p.stdout.on('data', (b) => (out += b));
		p.stderr.on('data', (b) => (err += b));
		p.on('error', (e) => resolve({ code: -1, stdout: '', stderr: String(e) }));
		p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
	});
}

/** curl from this host to the guest's httpd: {code, body} (28 = timed out: dropped). */
async function curl(url, ua, maxTime) {
	const t = Date.now();
	const r = await run(['curl', '-s', '-S', '--max-time', String(maxTime), '-A', ua, url]);
	if (process.env.NFLUA_TEST_VERBOSE) console.log(`curl ${ua}: ${r.code} in ${Date.now() - t} ms`);
	return { code: r.code, body: r.stdout, stderr: r.stderr };
}

describe('router: nfluactl over SSH to the real module in QEMU (kernel 6.1)', function () {
	this.timeout(180000);
	const vm = new RouterVm();
	let t0;
	// the node build (build/cli/bin.js) and the x64 single executable
	const cli = async (...args) => {
		const t = Date.now();
		const r = await run(['node', BIN, ...vm.cliArgs, ...args]);
		if (process.env.NFLUA_TEST_VERBOSE) console.log(`cli ${args.join(' ')}: ${r.code} in ${Date.now() - t} ms`);
		return r;
	};
	const sea = (...args) => run([SEA, ...vm.cliArgs, ...args]);
	const json = async (r) => {
		assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
		assert.equal(r.stdout.split('\n').length, 2, `one JSON document on one line: ${r.stdout}`);
		return JSON.parse(r.stdout);
	};

	before(async function () {
		// builds nflua.ko and the initramfs first when they are not current; a first run on a
		// fresh machine also downloads the kernel
		this.timeout(1200000);
		t0 = Date.now();
		await vm.start(1150000, { fleet: FLEET });
		console.log(`      (router ready after ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
	});
	after(async function () {
		this.timeout(120000);
		await vm.stop();
		console.log(`      (router suite: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
	});

	it('version reaches the module over SSH', async () => {
		const v = await json(await cli('--json', 'version'));
		assert.deepEqual(v, { cli: '0.1.0', module: v.module, where: vm.target });
		assert.match(v.module, /^nflua \S+ lua 5\.4\.7$/);
	});

	it('create, then list shows the new state', async () => {
		assert.deepEqual(await json(await cli('--json', 'create', 'web', '--maxalloc', '1M')), { action: 'create', state: 'web', ok: true });
		const list = await json(await cli('--json', 'list'));
		assert.equal(list.length, 1);
		for (const k of STATE_KEYS) assert.ok(k === 'name' ? typeof list[0][k] === 'string' : typeof list[0][k] === 'number', `${k}: ${JSON.stringify(list[0])}`);
		assert.equal(list[0].name, 'web');
		assert.equal(list[0].maxalloc, 1048576);
		assert.equal(list[0].rules, 0);
		const human = await cli('list');
		assert.equal(human.code, 0, human.stderr);
		assert.match(human.stdout, /^NAME +MAXALLOC +MEM +PEAK +BUDGET +RULES +CALLS +ERRORS +BUDGET_HITS.*\nweb +1048576 /);
	});

	it('execute a Lua file: its return values', async () => {
		const f = join(vm.dir, 'check_ua.lua');
		writeFileSync(f, FILTER);
		assert.deepEqual(await json(await cli('--json', 'execute', 'web', f)), { state: 'web', values: ['loaded', '2'] });
		const bad = await cli('execute', 'web', '-e', 'return nope()', '--chunkname', 'bad.lua');
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /^nfluactl: execute web on root@127\.0\.0\.1:\d+: bad\.lua:1: attempt to call a nil value \(global 'nope'\)/);
	});

	it('replies of more than 8 fields: list of 12 states, execute returning 20 values', async () => {
		const mk = await vm.exec('i=1; while [ $i -le 11 ]; do nfluactl create many$i || exit 1; i=$((i + 1)); done');
		assert.equal(mk.code, 0, mk.out);
		try {
			const list = await json(await cli('--json', 'list'));
			assert.deepEqual(list.map((s) => s.name).sort(), ['web', ...Array.from({ length: 11 }, (_, i) => `many${i + 1}`)].sort());
			const values = Array.from({ length: 20 }, (_, i) => String(i + 1));
			assert.deepEqual(await json(await cli('--json', 'execute', 'many1', '-e', `return ${values.join(', ')}`)), { state: 'many1', values });
		} finally {
			await vm.exec('i=1; while [ $i -le 11 ]; do nfluactl destroy many$i; i=$((i + 1)); done');
		}
	});

	it('rule add: an INPUT rule -m lua --state web --function check_ua -j DROP', async () => {
		const added = await json(await cli('--json', 'rule', 'add', ...RULE));
		assert.equal(added.action, 'add');
		assert.equal(added.rules.length, 1);
		const r = added.rules[0];
		assert.deepEqual({ ...r, backend: undefined }, {
			family: 'ipv4',
			command: 'iptables',
			backend: undefined,
			argv: ['iptables', '-w', '-t', 'filter', '-A', 'INPUT', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-m', 'lua', '--state', 'web', '--function', 'check_ua', '-j', 'DROP'],
			changed: true,
		});
		assert.ok(['nft', 'legacy'].includes(r.backend), `backend ${r.backend}`);
		const again = await json(await cli('--json', 'rule', 'add', ...RULE));
		assert.equal(again.rules[0].changed, false, 'a rule that is there already is not added twice');

		const rules = await json(await cli('--json', 'rule', 'list'));
		assert.equal(rules.length, 1, JSON.stringify(rules));
		assert.deepEqual({ ...rules[0], args: undefined }, {
			family: 'ipv4',
			table: 'filter',
			chain: 'INPUT',
			state: 'web',
			match: { function: 'check_ua', invert: false, tcpPayload: false },
			target: 'DROP',
			args: undefined,
			line: '-A INPUT -p tcp -m tcp --dport 80 -m lua --state web --function check_ua -j DROP',
		});
		const [web] = await json(await cli('--json', 'list'));
		assert.equal(web.rules, 1, 'the rule holds the state');
	});

	it('traffic: the kernel drops the blocked User-Agent, others get the page', async () => {
		const [before] = await json(await cli('--json', 'list'));
		const ok = await curl(vm.httpUrl, 'Mozilla/5.0 (good)', 20);
		assert.deepEqual({ code: ok.code, body: ok.body }, { code: 0, body: 'hello from the router\n' }, ok.stderr);
		const blocked = await curl(vm.httpUrl, 'EvilBot/1.0', 5);
		assert.equal(blocked.code, 28, `curl should time out (the request is dropped): exit ${blocked.code}, ${blocked.body}${blocked.stderr}`);
		assert.equal(blocked.body, '');
		const ok2 = await curl(vm.httpUrl, 'curl/8 (fine)', 20);
		assert.equal(ok2.body, 'hello from the router\n', ok2.stderr);
		const [after] = await json(await cli('--json', 'list'));
		assert.ok(after.matches === undefined || after.matches > before.matches, `matches ${before.matches} -> ${after.matches}`);
		assert.ok(after.calls >= before.calls + 3, `calls ${before.calls} -> ${after.calls}: every request went through Lua`);
		assert.equal(after.errors, before.errors, 'no Lua errors on the packet path');
	});

	it('destroy is refused while the rule exists (exit 1, EBUSY)', async () => {
		const r = await cli('destroy', 'web');
		assert.equal(r.code, 1);
		assert.equal(r.stdout, '');
		assert.equal(r.stderr, `nfluactl: destroy web on ${vm.target}: state 'web' is used by 1 iptables rule: delete them first; delete its rules first: nfluactl rule list --state web\n`);
		const j = await cli('--json', 'destroy', 'web');
		assert.equal(j.code, 1);
		const { error } = JSON.parse(j.stdout);
		assert.deepEqual(error, { ...error, kind: 'kernel', exitCode: 1, errno: 16, errnoName: 'EBUSY', reason: 'busy', where: vm.target });
		assert.equal(typeof error.message, 'string');
		assert.equal(typeof error.hint, 'string');
		const [web] = await json(await cli('--json', 'list'));
		assert.equal(web.name, 'web', 'the state is still there');
	});

	it('rule del, then the blocked User-Agent gets the page too', async () => {
		const del = await json(await cli('--json', 'rule', 'del', ...RULE));
		assert.equal(del.action, 'del');
		assert.equal(del.rules.length, 1);
		assert.deepEqual(del.rules[0].argv.slice(0, 6), ['iptables', '-w', '-t', 'filter', '-D', 'INPUT']);
		assert.equal(del.rules[0].changed, true);
		assert.deepEqual(await json(await cli('--json', 'rule', 'list')), []);
		const [web] = await json(await cli('--json', 'list'));
		assert.equal(web.rules, 0);
		const r = await curl(vm.httpUrl, 'EvilBot/1.0', 20);
		assert.equal(r.body, 'hello from the router\n', r.stderr);
	});

	it('destroy, then list is empty', async () => {
		assert.deepEqual(await json(await cli('--json', 'destroy', 'web')), { action: 'destroy', state: 'web', ok: true });
		assert.deepEqual(await json(await cli('--json', 'list')), []);
		const gone = await cli('--json', 'destroy', 'web');
		assert.equal(gone.code, 1);
		assert.equal(JSON.parse(gone.stdout).error.reason, 'no-such-state');
	});

	it('the x64 single executable: list, create, execute, rule add/del, destroy', async () => {
		assert.ok(existsSync(SEA), `${SEA} is missing: run scripts/build-sea.sh`);
		assert.deepEqual(await json(await sea('--json', 'list')), []);
		assert.deepEqual(await json(await sea('--json', 'create', 'sea')), { action: 'create', state: 'sea', ok: true });
		assert.deepEqual(await json(await sea('--json', 'execute', 'sea', '-e', 'function f() return false end return 6 * 7')), { state: 'sea', values: ['42'] });
		const list = await json(await sea('--json', 'list'));
		assert.deepEqual(list.map((s) => s.name), ['sea']);
		const rule = ['OUTPUT', '--state', 'sea', '--function', 'f', '-p', 'udp', '--dport', '9'];
		assert.equal((await json(await sea('--json', 'rule', 'add', ...rule))).rules[0].changed, true);
		const busy = await sea('destroy', 'sea');
		assert.equal(busy.code, 1, busy.stderr);
		assert.match(busy.stderr, /is used by 1 iptables rule/);
		assert.equal((await json(await sea('--json', 'rule', 'del', ...rule))).rules[0].changed, true);
		assert.deepEqual(await json(await sea('--json', 'destroy', 'sea')), { action: 'destroy', state: 'sea', ok: true });
		assert.deepEqual(await json(await sea('--json', 'list')), []);
	});

	// A fleet of routers behind this one (network namespaces, each its own dropbear, states and
	// iptables), reached through it as the jump host. (Plain its, not a nested describe: mocha
	// would run those after the last it, which stops the VM.)
	let inv;
	const other = (host, ...args) => run(['node', BIN, '-i', vm.keyFile, '--known-hosts', vm.knownHosts, '--ssh-config', vm.sshConfig, '--timeout', '60', '--host', host, '--jump', vm.target, ...args]);
	it(`fleet: inventory of ${FLEET} routers behind this one, with it as the jump host`, async () => {
		inv = join(vm.dir, 'fleet.ini');
		writeFileSync(inv, vm.fleetInventory());
		const j = await json(await cli('--json', 'inventory', '-i', inv));
		assert.equal(j.selected, FLEET);
		assert.deepEqual(j.hosts[0].connection, { host: vm.fleetAddress(1), port: 22, user: 'root', identity: null, jump: vm.target });
	});
	it('fleet: ping reaches every router and its own module, all at once through one jump connection; --json=stream', async () => {
		const r = await cli('--json=stream', 'ping', '-i', inv, '-f', String(FLEET));
		assert.equal(r.code, 0, r.stderr + r.stdout);
		const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
		const summary = lines.pop();
		assert.deepEqual({ ...summary.summary, seconds: 0 }, { hosts: FLEET, ok: FLEET, changed: 0, failed: 0, unreachable: 0, seconds: 0 });
		assert.deepEqual(lines.map((l) => l.host).sort(), Array.from({ length: FLEET }, (_, i) => `f${String(i + 1).padStart(3, '0')}`));
		for (const l of lines) assert.match(l.data.module, /^nflua \S+ lua 5\.4\.7$/);
	});
	it('fleet: each router has its own states: one made on f001 is not on f002', async () => {
		const one = `root@${vm.fleetAddress(1)}`;
		assert.deepEqual(await json(await other(one, '--json', 'create', 'mine')), { action: 'create', state: 'mine', ok: true });
		assert.deepEqual((await json(await other(one, '--json', 'list'))).map((x) => x.name), ['mine']);
		assert.deepEqual(await json(await other(`root@${vm.fleetAddress(2)}`, '--json', 'list')), []);
		assert.deepEqual(await json(await other(one, '--json', 'destroy', 'mine')), { action: 'destroy', state: 'mine', ok: true });
	});
	it('fleet: a router whose dropbear is gone is unreachable (exit 12), the others ok; --retry-file names it', async () => {
		const k = await vm.exec(`kill $(cat /run/dropbear-f${FLEET}.pid)`);
		assert.equal(k.code, 0, k.out);
		const retry = join(vm.dir, 'retry');
		const r = await cli('ping', '-i', inv, '-f', '20', '--retries', '1', '--retry-file', retry);
		assert.equal(r.code, 12, r.stderr + r.stdout);
		assert.match(r.stdout, new RegExp(`^f0*${FLEET} +unreachable`, 'm'));
		assert.match(r.stdout, new RegExp(`^${FLEET} hosts: ${FLEET - 1} ok, 0 changed, 0 failed, 1 unreachable`, 'm'));
		assert.equal(readFileSync(retry, 'utf8'), `f${String(FLEET).padStart(3, '0')}\n`);
	});

	it('the guest case passed and the kernel log is clean (run.sh)', async () => {
		const r = await vm.finish(120000);
		assert.equal(r.code, 0, `run.sh: exit ${r.code} ${r.signal ?? ''}\n${r.output}`);
		assert.match(r.output, /^ok {3}r00-router /m);
		assert.match(r.output, /^1 passed, 0 failed$/m);
	});
});
