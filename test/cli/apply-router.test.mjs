// nfluactl apply against real routers: the QEMU router (kernel 6.1, nflua.ko, iptables, dropbear,
// busybox httpd, OpenWrt's uci and our router-side nfluactl apply) and 20 routers behind it as
// network namespaces (each its own dropbear, states, iptables and, through a mount namespace,
// its own /etc/config, /etc/nflua, /var/run/nflua and /var/lock), reached with the QEMU router
// as the jump host. The User-Agent policy (policies/fleet/http_ua.yaml) is applied, re-applied
// (ok, nothing touched), checked with a diff after a change (nothing touched), applied by
// shards; then the faults: a router that is not there, one with a wrong key, one whose host key
// changed, one whose connection is cut after its new states are staged, one whose kernel
// rejects a script. Real HTTP requests from this host's curl show the QEMU router's filter.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { BIN, ROOT, mod } from './helpers/build.mjs';
import { RouterVm } from './helpers/router-vm.mjs';

const HP = await mod('core/hostpattern.js');

const FLEET = 20;
const name = (i) => `f${String(i).padStart(3, '0')}`;
/* the fleet routers of the main group (f018/f019 stand for the bad key and the changed host key) */
const MAIN = ['r0', ...Array.from({ length: FLEET }, (_, k) => name(k + 1)).filter((n) => n !== 'f018' && n !== 'f019')];
const CUT = 'f020';

function run(argv, { timeoutMs = 1800000 } = {}) {
	return new Promise((resolve) => {
		const env = { ...process.env, CI: 'true', FORCE_COLOR: '0' };
		delete env.SSH_AUTH_SOCK;
		delete env.NFLUA_HOST;
		const p = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
		p.stdout.on('data', (b) => (out += b));
		p.stderr.on('data', (b) => (err += b));
		p.on('error', (e) => resolve({ code: -1, stdout: '', stderr: String(e) }));
		p.on('close', (code) => {
			clearTimeout(t);
			resolve({ code, stdout: out, stderr: err });
		});
	});
}

async function curl(url, ua, maxTime) {
	const r = await run(['curl', '-s', '-S', '--max-time', String(maxTime), '-A', ua, url]);
	return { code: r.code, body: r.stdout, stderr: r.stderr };
}

describe('apply: policies to a fleet of real routers (QEMU router + 20 netns routers behind it)', function () {
	/* the router side is busybox sh: under TCG on a shared host one router's transaction takes
	 * tens of seconds, so the whole fleet is applied three times only (apply, re-apply, clean up)
	 * and the other cases work on parts of it */
	this.timeout(1800000);
	const vm = new RouterVm();
	let t0;
	let dir;
	let inv;
	let pol;
	const base = (timeout = 900) => ['--known-hosts', vm.knownHosts, '--ssh-config', vm.sshConfig, '--timeout', String(timeout)];
	/* (a killed router session behind the jump host is noticed by the keepalives, after --timeout:
	 * the jump host's dropbear leaves the forwarded channel half-open) */
	let applyTimeout = 900;
	const apply = async (policy, ...args) => {
		const t = Date.now();
		const r = await run(['node', BIN, ...base(applyTimeout), 'apply', policy, '-i', inv, ...args]);
		console.log(`      (apply ${policy.split('/').pop()} ${args.join(' ')}: exit ${r.code} in ${((Date.now() - t) / 1000).toFixed(1)} s)`);
		return r;
	};
	/* one router, with the CLI's single-router commands (execute, list) */
	const on = (host, ...args) => {
		const target = host === 'r0' ? ['--host', vm.target] : ['--host', `root@${vm.fleetAddress(Number(host.slice(1)))}`, '--jump', vm.target];
		return run(['node', BIN, '--identity', vm.keyFile, ...base(), ...target, ...args]);
	};
	/* the command's JSON document (a fleet run that is not all ok adds an error line after it) */
	const json = (r, code = 0) => {
		if (code !== null) assert.equal(r.code, code, `exit ${r.code}: ${r.stderr}\n${r.stdout}`);
		const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
		return docs.find((d) => d.summary !== undefined) ?? docs[0];
	};
	const byHost = (doc) => Object.fromEntries(doc.hosts.map((h) => [h.host, h]));
	const guest = async (cmd) => {
		const r = await vm.exec(cmd);
		assert.equal(r.code, 0, `${cmd}: ${r.out}`);
		return r.out;
	};
	/* a router's shell: the QEMU router's own, or a fleet router's namespaces (net and mount) */
	const inRouter = (host, cmd) => (host === 'r0' ? guest(cmd)
		: guest(`/usr/bin/nsenter --net=/run/netns/f${Number(host.slice(1))} --mount=/proc/$(cat /run/dropbear-f${Number(host.slice(1))}.pid)/ns/mnt /bin/sh -c '${cmd.replace(/'/g, `'\\''`)}'`));

	before(async function () {
		this.timeout(1200000);
		t0 = Date.now();
		await vm.start(1150000, { fleet: FLEET, openwrt: true });
		console.log(`      (router ready after ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
		dir = join(vm.dir, 'policy');
		mkdirSync(dir);
		copyFileSync(join(ROOT, 'policies', 'http_ua.lua'), join(dir, 'http_ua.lua'));
		copyFileSync(join(ROOT, 'policies', 'fleet', 'http_ua_list.lua'), join(dir, 'http_ua_list.lua'));
		pol = (file, { words = ['sqlmap', 'BadBot'], broken = false, extraRule = '' } = {}) => {
			const p = join(dir, file);
			writeFileSync(p, `states:
  - name: web
    budget: 100000
    scripts: [http_ua.lua, http_ua_list.lua${broken ? ', broken.lua' : ''}]
    vars:
      BLOCKED_AGENTS: ${JSON.stringify(words)}
rules:
  - name: web_ua
    chain: input
    match: -p tcp --dport 80
    tcp_payload: true
    state: web
    function: http_ua_match
${extraRule}`);
			return p;
		};
		writeFileSync(join(dir, 'broken.lua'), 'local x = 1\nfunction oops(\n');
		writeFileSync(join(dir, 'empty.yaml'), 'states: []\n');
		/* "gone": the jump host's own address on the fleet's bridge, a closed port (refused at once;
		 * an address with no router costs TCP's SYN retries, minutes, per try); another key
		 * (refused by every router) and another host key (for f019's address) */
		const other = ssh2.utils.generateKeyPairSync('ed25519');
		writeFileSync(join(vm.dir, 'id_other'), other.private, { mode: 0o600 });
		const otherHost = ssh2.utils.generateKeyPairSync('ed25519').public.trim().split(' ').slice(0, 2).join(' ');
		inv = join(vm.dir, 'routers.ini');
		const lines = vm.fleetInventory().split('\n').filter((l) => !/^f01[89] /.test(l));
		writeFileSync(inv, `[gw]
r0 ansible_host=127.0.0.1 ansible_port=${vm.sshPort}
${lines.join('\n')}
[faulty]
gone ansible_host=10.98.0.1 ansible_port=9
badkey ansible_host=${vm.fleetAddress(18)} ansible_ssh_private_key_file=${join(vm.dir, 'id_other')}
newkey ansible_host=${vm.fleetAddress(19)}
[faulty:vars]
ansible_user=root
ansible_ssh_common_args='-o ProxyJump=${vm.target}'
[all:vars]
ansible_user=root
ansible_ssh_private_key_file=${vm.keyFile}
`);
		const kh = readFileSync(vm.knownHosts, 'utf8').split('\n').filter((l) => !l.startsWith(`${vm.fleetAddress(19)} `));
		writeFileSync(vm.knownHosts, `${kh.join('\n')}\n${vm.fleetAddress(19)} ${otherHost}\n`);
	});
	after(async function () {
		this.timeout(180000);
		await vm.stop();
		console.log(`      (apply suite: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
	});

	it(`apply to ${MAIN.length} routers: every one changed (exit 10), on the new policy; the QEMU router filters real requests`, async () => {
		const doc = json(await apply(pol('p1.yaml'), '--limit', '!faulty', '-f', '20', '--json'), 10);
		assert.deepEqual({ ...doc.summary, seconds: 0 }, { hosts: MAIN.length, ok: 0, changed: MAIN.length, failed: 0, unreachable: 0, seconds: 0 });
		for (const h of doc.hosts) {
			assert.equal(h.status, 'changed', JSON.stringify(h));
			assert.equal(h.data.policy, 'new');
			assert.ok(h.data.changes.includes('state web create'), JSON.stringify(h.data.changes));
		}
		const bad = await curl(vm.httpUrl, 'BadBot/2.0', 5);
		assert.equal(bad.code, 28, `BadBot should be dropped: exit ${bad.code} ${bad.body}${bad.stderr}`);
		const good = await curl(vm.httpUrl, 'Mozilla/5.0', 20);
		assert.equal(good.body, 'hello from the router\n', good.stderr);
		/* what apply persisted is what the UCI file names */
		const cfg = await inRouter('f003', 'cat /etc/config/nflua; ls /etc/nflua/apply/web');
		assert.match(cfg, /list script '\/etc\/nflua\/apply\/web\/00-vars\.lua'/);
		assert.match(cfg, /^00-vars\.lua\n01-http_ua\.lua\n02-http_ua_list\.lua$/m);
	});

	it('re-apply: every router ok (exit 0), nothing touched: states kept (a mark set in them survives), rule counters keep counting', async () => {
		for (const h of ['r0', 'f001']) json(await on(h, '--json', 'execute', 'web', '-e', 'APPLY_MARK = 4242'));
		const [before] = json(await on('r0', '--json', 'list'));
		const chains = await inRouter('r0', 'iptables -S | grep -c NFLUA || true');
		const doc = json(await apply(pol('p1.yaml'), '--limit', '!faulty', '-f', '20', '--json'), 0);
		assert.deepEqual({ ...doc.summary, seconds: 0 }, { hosts: MAIN.length, ok: MAIN.length, changed: 0, failed: 0, unreachable: 0, seconds: 0 });
		for (const h of doc.hosts) assert.deepEqual(h.data.changes, [], JSON.stringify(h));
		for (const h of ['r0', 'f001']) assert.deepEqual(json(await on(h, '--json', 'execute', 'web', '-e', 'return APPLY_MARK')), { state: 'web', values: ['4242'] }, h);
		assert.equal(await inRouter('r0', 'iptables -S | grep -c NFLUA || true'), chains);
		await curl(vm.httpUrl, 'BadBot/2.0', 3);
		await curl(vm.httpUrl, 'Mozilla/5.0', 20);
		const [after] = json(await on('r0', '--json', 'list'));
		assert.ok(after.calls >= before.calls + 2, `calls ${before.calls} -> ${after.calls}: the same state, still called`);
	});

	const PART = ['r0', 'f001', 'f002', 'f003', 'f004', 'f005'];
	const PART_LIMIT = 'r0:f001:f002:f003:f004:f005';
	it('--check --diff after a policy change: would change (exit 10), the diff shows it, nothing changes', async () => {
		const p2 = pol('p2.yaml', { words: ['sqlmap', 'BadBot', 'EvilBot'] });
		const r = await apply(p2, '--limit', PART_LIMIT, '--check', '--diff', '-f', '10');
		assert.equal(r.code, 10, r.stderr + r.stdout);
		assert.match(r.stdout, /^r0 +changed +\[old policy\] would change: .*state web/m);
		assert.match(r.stdout, /^ {4}\+\t"EvilBot",$/m, r.stdout);
		assert.match(r.stdout, new RegExp(`^${PART.length} hosts: 0 ok, ${PART.length} changed, 0 failed, 0 unreachable`, 'm'));
		const evil = await curl(vm.httpUrl, 'EvilBot/1.0', 20);
		assert.equal(evil.body, 'hello from the router\n', 'nothing was changed by --check');
		assert.deepEqual(json(await on('r0', '--json', 'execute', 'web', '-e', 'return APPLY_MARK')).values, ['4242']);
	});

	it("--limit and --shard 0/2, 1/2: disjoint halves (by the names' hash) that cover what --limit selects, each applied; EvilBot is dropped", async () => {
		const p2 = join(dir, 'p2.yaml');
		const seen = [];
		for (const s of ['0/2', '1/2']) {
			const doc = json(await apply(p2, '--limit', PART_LIMIT, '--shard', s, '--json'), 10);
			const hosts = doc.hosts.map((h) => h.host);
			assert.deepEqual(hosts, HP.inShard(PART, HP.parseShard(s)), s);
			for (const h of doc.hosts) assert.equal(h.status, 'changed');
			seen.push(...hosts);
		}
		assert.deepEqual([...seen].sort(), [...PART].sort());
		const evil = await curl(vm.httpUrl, 'EvilBot/1.0', 5);
		assert.equal(evil.code, 28, 'EvilBot is dropped now');
	});

	it("persistence: the init script's stop, then its start (f_stop, f_start: what boot runs) bring back exactly what was applied", async () => {
		/* as /etc/init.d/nflua has them (rc.common brings OpenWrt's functions.sh) */
		const fns = '. /lib/functions.sh && . /usr/lib/nflua/nflua-functions.sh &&';
		await inRouter('f002', `${fns} f_stop`);
		assert.deepEqual(json(await on('f002', '--json', 'list')), []);
		assert.doesNotMatch(await inRouter('f002', 'iptables -S'), /--function http_ua_match/);
		await inRouter('f002', `${fns} f_start`);
		assert.deepEqual(json(await on('f002', '--json', 'execute', 'web', '-e', 'return #http_ua.words')).values, ['3']);
		assert.match(await inRouter('f002', 'iptables -S'), /--function http_ua_match/);
		const chk = json(await apply(join(dir, 'p2.yaml'), '--limit', 'f002', '--check', '--json'), 0);
		assert.equal(chk.hosts[0].data.result, 'ok');
	});

	it('faults: not there, wrong key, changed host key -> unreachable; connection cut after staging -> old or new, and the recap says which (exit 12, or 13 when old)', async () => {
		/* the watcher: when f020's transaction has staged its states, freeze it, kill its SSH
		 * session (the dropbear child), let it go on */
		const n = Number(CUT.slice(1));
		await guest(`cat >/tmp/cut.sh <<'EOF'
log=/tmp/fleet/f${n}/run/apply.log
master=$(cat /run/dropbear-f${n}.pid)
: >/tmp/cut.out
while ! grep -q staged "$log" 2>/dev/null; do sleep 0.02; done
kids() { for s in /proc/[0-9]*/stat; do read -r p _ _ pp _ <"$s" 2>/dev/null && [ "$pp" = "$1" ] && echo "$p"; done; }
tree() { for k in $(kids "$1"); do echo "$k"; tree "$k"; done; }
sess=$(kids "$master")
below=$(for s in $sess; do tree "$s"; done)
kill -STOP $below 2>/dev/null
kill -KILL $sess
sleep 1
kill -CONT $below 2>/dev/null
echo "cut: session $sess, below $below" >>/tmp/cut.out
EOF
: >/tmp/fleet/f${n}/run/apply.log; (sh /tmp/cut.sh </dev/null >/dev/null 2>&1 &)`);
		const p3 = pol('p3.yaml', { words: ['sqlmap', 'BadBot', 'EvilBot', 'NastyBot'] });
		const retry = join(vm.dir, 'retry');
		applyTimeout = 120;
		const r = await apply(p3, '--limit', `faulty:${CUT}:f001`, '-f', '10', '--retries', '1', '--json', '--retry-file', retry);
		applyTimeout = 900;
		const doc = json(r, null);
		const h = byHost(doc);
		assert.equal(r.code, h[CUT].status === 'failed' ? 13 : 12, r.stderr + r.stdout);
		assert.equal(h.gone.status, 'unreachable');
		assert.equal(h.badkey.status, 'unreachable');
		assert.equal(h.badkey.error.kind, 'auth');
		assert.equal(h.newkey.status, 'unreachable');
		assert.equal(h.newkey.error.kind, 'host-key');
		const cut = h[CUT];
		console.log(`      (cut router: ${cut.status}, policy ${cut.data?.policy}; ${(await guest('cat /tmp/cut.out')).trim()})`);
		assert.equal(cut.data.reconnected, true, JSON.stringify(cut));
		assert.ok(['old', 'new'].includes(cut.data.policy), JSON.stringify(cut));
		assert.equal(cut.status, cut.data.policy === 'new' ? 'changed' : 'failed');
		assert.equal(h.f001.status, 'changed', JSON.stringify(h.f001));
		assert.deepEqual(readFileSync(retry, 'utf8').trim().split('\n').sort(), ['badkey', 'gone', 'newkey', ...(cut.status === 'failed' ? [CUT] : [])].sort());
		/* the cut router is on the policy the recap says: a check agrees */
		const chk = json(await apply(p3, '--limit', CUT, '--check', '--json'), cut.data.policy === 'new' ? 0 : 10);
		assert.equal(chk.hosts[0].data.result, cut.data.policy === 'new' ? 'ok' : 'would-change');
		/* and it is whole: its state answers, its rule is in place */
		assert.deepEqual(json(await on(CUT, '--json', 'execute', 'web', '-e', 'return #http_ua.words')).values, [cut.data.policy === 'new' ? '4' : '2']);
		assert.match(await inRouter(CUT, 'iptables -S'), /--function http_ua_match/);
		json(await apply(p3, '--limit', CUT, '--json'), cut.data.policy === 'new' ? 0 : 10);
	});

	it("a script the kernel rejects (syntax error): failed (exit 11) with the kernel's chunk:line, rolled back: the previous rules still filter", async () => {
		/* (the shard run replaced r0's state: a new mark) */
		json(await on('r0', '--json', 'execute', 'web', '-e', 'APPLY_MARK = 4343'));
		const [before] = json(await on('r0', '--json', 'list'));
		const r = await apply(pol('p4.yaml', { words: ['Mozilla'], broken: true }), '--limit', 'r0');
		assert.equal(r.code, 11, r.stderr + r.stdout);
		assert.match(r.stdout, /^r0 +failed +\[old policy\] .*broken\.lua:\d+: /m);
		const j = json(await apply(join(dir, 'p4.yaml'), '--limit', 'r0', '--json'), 11);
		assert.equal(j.hosts[0].error.kind, 'apply-failed');
		assert.equal(j.hosts[0].data.policy, 'old');
		assert.ok(j.hosts[0].data.errors.some((e) => /broken\.lua:\d+:/.test(e)), JSON.stringify(j.hosts[0]));
		/* the previous policy (p2): EvilBot dropped, Mozilla served, the same state still called */
		assert.equal((await curl(vm.httpUrl, 'EvilBot/1.0', 5)).code, 28);
		assert.equal((await curl(vm.httpUrl, 'Mozilla/5.0', 20)).body, 'hello from the router\n');
		const [after] = json(await on('r0', '--json', 'list'));
		assert.ok(after.calls >= before.calls + 2, `calls ${before.calls} -> ${after.calls}`);
		assert.deepEqual(json(await on('r0', '--json', 'execute', 'web', '-e', 'return APPLY_MARK')).values, ['4343']);
		json(await apply(join(dir, 'p2.yaml'), '--limit', 'r0', '--check', '--json'), 0);
	});

	it('an empty policy removes every state and rule (the guest case then checks the routers are clean)', async () => {
		const doc = json(await apply(join(dir, 'empty.yaml'), '--limit', '!faulty', '-f', '20', '--json'), 10);
		assert.equal(doc.summary.changed, MAIN.length);
		for (const h of ['r0', 'f001']) assert.deepEqual(json(await on(h, '--json', 'list')), []);
		assert.equal((await curl(vm.httpUrl, 'BadBot/1.0', 20)).body, 'hello from the router\n');
	});

	it('the guest case passed and the kernel log is clean (run.sh)', async () => {
		const r = await vm.finish(180000);
		assert.equal(r.code, 0, `run.sh: exit ${r.code} ${r.signal ?? ''}\n${r.output}`);
		assert.match(r.output, /^1 passed, 0 failed$/m);
	});
});
