// The SSH transport against a real dropbear on 127.0.0.1: the device bridge (with a stand-in
// device file, --device), the iptables bridge, host key checks, auth failures, ssh config,
// jump hosts, timeouts. The CLI runs as a real process (CI=true FORCE_COLOR=0).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { BIN, mod, spawnCli } from './helpers/build.mjs';
import { Dropbear, freePort } from './helpers/dropbear.mjs';

const P = await mod('core/protocol.js');
const O = await mod('core/ops.js');
const { SshTransport } = await mod('transport/ssh.js');
const { parseHostSpec } = await mod('core/validate.js');
const { IPTABLES_BRIDGE } = await mod('core/bridge.js');

const cli = spawnCli;

// How many open file descriptors of any process point at PATH (the stand-in device's users).
function holders(path) {
	let n = 0;
	for (const pid of readdirSync('/proc')) {
		if (!/^\d+$/.test(pid)) continue;
		try {
			for (const fd of readdirSync(`/proc/${pid}/fd`)) {
				try {
					if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) n++;
				} catch { /* gone */ }
			}
		} catch { /* gone or not ours */ }
	}
	return n;
}

describe('SSH transport against a real dropbear', function () {
	this.timeout(30000);
	const db = new Dropbear();
	let n = 0;
	// a stand-in device: request then reply in one file (the bridge writes the request over
	// the identical bytes, then reads what follows)
	function tape(op, reply) {
		const p = join(db.dir, `dev${n++}`);
		writeFileSync(p, Buffer.concat([Buffer.from(P.concat(op.request.chunks)), Buffer.from(reply)]));
		return p;
	}
	const base = () => ['--host', db.target, '-i', db.key.file, '--known-hosts', db.knownHosts, '--timeout', '10'];

	before(async () => {
		await db.start();
	});
	after(async () => {
		await db.stop();
	});

	it('runs the device bridge: version', async () => {
		const dev = tape(O.version(), P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		const r = await cli([...base(), '--device', dev, '--json', 'version']);
		assert.equal(r.code, 0, r.stderr + db.log);
		assert.deepEqual(JSON.parse(r.stdout), { cli: '0.1.0', module: 'nflua 0.1.0 lua 5.4.7', where: db.target });
	});
	it('list parses what the bridge relays', async () => {
		const line = (nm) => `name=${nm} maxalloc=1048576 mem=23040 peak=30112 budget=100000 rules=0 calls=12 errors=1 budget_hits=0`;
		const dev = tape(O.list(), P.encodeReply(0, [line('dns'), line('web')]));
		const r = await cli([...base(), '--device', dev, '--json', 'list']);
		assert.equal(r.code, 0, r.stderr);
		assert.deepEqual(JSON.parse(r.stdout).map((s) => s.name), ['dns', 'web']);
	});
	it('pushes a 2 MiB script on the channel stdin, byte for byte (no sftp, no scp)', async () => {
		const script = Buffer.concat([Buffer.from('-- big\n'), randomBytes(2 * 1024 * 1024), Buffer.from("\n'\\0 $(x)")]);
		const file = join(db.dir, 'big.lua');
		writeFileSync(file, script);
		const op = O.execute('web', 'big.lua', script);
		const dev = tape(op, P.encodeReply(0, ['ok', '2']));
		const before = readFileSync(dev);
		const r = await cli([...base(), '--device', dev, 'execute', 'web', file]);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stdout, 'ok\t2\n');
		assert.ok(readFileSync(dev).equals(before), 'the request written is the request encoded');
	});
	it('reports a kernel refusal with where it happened (exit 1)', async () => {
		const dev = tape(O.destroy('web'), P.encodeReply(16, ["state 'web' is used by 2 iptables rules"]));
		const r = await cli([...base(), '--device', dev, 'destroy', 'web']);
		assert.equal(r.code, 1);
		assert.equal(r.stderr, `nfluactl: destroy web on ${db.target}: state 'web' is used by 2 iptables rules; delete its rules first: nfluactl rule list --state web\n`);
	});
	it('a missing device is exit 3, one that cannot be opened too', async () => {
		let r = await cli([...base(), 'list']);
		assert.equal(r.code, 3);
		assert.equal(r.stderr, `nfluactl: list: /dev/nflua does not exist on ${db.target}; is the nflua module loaded? (on the router: modprobe nflua)\n`);
		r = await cli([...base(), '--device', db.dir, 'list']);
		assert.equal(r.code, 3);
		assert.match(r.stderr, /cannot open .* on /);
	});
	it('a reply cut short is a protocol error (exit 5)', async () => {
		const dev = tape(O.version(), '0 30\nnflua');
		const r = await cli([...base(), '--device', dev, 'version']);
		assert.equal(r.code, 5);
		assert.match(r.stderr, /reply announced 30 bytes, got 5/);
	});
	it('an unknown host key is refused (exit 8) unless --accept-new, which records it', async () => {
		const kh = db.writeKnownHosts('kh-empty', '');
		const dev = tape(O.version(), P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		const args = ['--host', db.target, '-i', db.key.file, '--known-hosts', kh, '--device', dev, 'version'];
		let r = await cli(args);
		assert.equal(r.code, 8);
		assert.match(r.stderr, /host key of .* is unknown \(ssh-ed25519 SHA256:.*\).*--accept-new/);
		r = await cli(['--accept-new', ...args]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /added the host key/);
		assert.equal(readFileSync(kh, 'utf8'), `[127.0.0.1]:${db.port} ${db.hostKey.pub}\n`);
		r = await cli(args);
		assert.equal(r.code, 0, r.stderr);
	});
	it('a changed host key is always refused (exit 8), with what to do', async () => {
		const kh = db.writeKnownHosts('kh-changed', `[127.0.0.1]:${db.port} ${db.otherHostKey.pub}\n`);
		const r = await cli(['--accept-new', '--host', db.target, '-i', db.key.file, '--known-hosts', kh, 'version']);
		assert.equal(r.code, 8);
		assert.match(r.stderr, /has CHANGED.*kh-changed:1.*ssh-keygen -R '\[127.0.0.1\]:\d+' -f /);
		assert.equal(readFileSync(kh, 'utf8'), `[127.0.0.1]:${db.port} ${db.otherHostKey.pub}\n`);
	});
	it('accepts a hashed known_hosts entry', async () => {
		const salt = randomBytes(20);
		const h = createHmac('sha1', salt).update(`[127.0.0.1]:${db.port}`).digest('base64');
		const kh = db.writeKnownHosts('kh-hashed', `|1|${salt.toString('base64')}|${h} ${db.hostKey.pub}\n`);
		const dev = tape(O.version(), P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		const r = await cli(['--host', db.target, '-i', db.key.file, '--known-hosts', kh, '--device', dev, 'version']);
		assert.equal(r.code, 0, r.stderr);
	});
	it('an authentication failure is exit 7 and names what was tried, never a secret', async () => {
		const r = await cli(['--host', db.target, '-i', db.strangerKey.file, '--known-hosts', db.knownHosts, 'version']);
		assert.equal(r.code, 7);
		assert.match(r.stderr, /authentication to .* failed \(tried: .*id_stranger/);
		assert.ok(!r.stderr.includes('PRIVATE KEY'));
		const key = readFileSync(db.strangerKey.file, 'utf8').split('\n')[1];
		assert.ok(!r.stderr.includes(key));
	});
	it('an unreadable key file is a usage error (exit 2)', async () => {
		const r = await cli(['--host', db.target, '-i', '/nonexistent/key', '--known-hosts', db.knownHosts, 'version']);
		assert.equal(r.code, 2);
	});
	it('a closed port is unreachable (exit 6); a silent server times out (exit 9)', async () => {
		const port = await freePort();
		let r = await cli(['--host', `root@127.0.0.1:${port}`, '--known-hosts', db.knownHosts, 'version']);
		assert.equal(r.code, 6);
		assert.match(r.stderr, /cannot reach root@127.0.0.1:\d+: connection refused/);
		const silent = createServer(() => {});
		await new Promise((res) => silent.listen(0, '127.0.0.1', res));
		r = await cli(['--host', `root@127.0.0.1:${silent.address().port}`, '--known-hosts', db.knownHosts, '--timeout', '1', 'version']);
		silent.close();
		assert.equal(r.code, 9);
		assert.match(r.stderr, /no SSH answer from .* within 1 s/);
	});
	it('honours ~/.ssh/config Host/HostName/User/Port/IdentityFile', async () => {
		const cfg = join(db.dir, 'config');
		writeFileSync(cfg, `Host router-test\n  HostName 127.0.0.1\n  Port ${db.port}\n  User ${db.user}\n  IdentityFile ${db.key.file}\n`);
		const dev = tape(O.version(), P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		const r = await cli(['-F', cfg, '--host', 'router-test', '--known-hosts', db.knownHosts, '--device', dev, '--json', 'version']);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(JSON.parse(r.stdout).where, db.target);
	});
	it('reaches the router through a jump host (--jump, and ProxyJump from the config)', async () => {
		const dev = tape(O.version(), P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		let r = await cli([...base(), '--jump', db.target, '--device', dev, 'version']);
		assert.equal(r.code, 0, r.stderr);
		const cfg = join(db.dir, 'config-jump');
		writeFileSync(cfg, `Host inner\n  HostName 127.0.0.1\n  Port ${db.port}\n  ProxyJump bastion\nHost bastion\n  HostName 127.0.0.1\n  Port ${db.port}\nHost *\n  User ${db.user}\n  IdentityFile ${db.key.file}\n`);
		const dev2 = tape(O.version(), P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']));
		r = await cli(['-v', '-F', cfg, '--host', 'inner', '--known-hosts', db.knownHosts, '--device', dev2, 'version']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /connecting to .*connecting to /s);
	});
	it('runs iptables through the second bridge, and that bridge refuses anything else', async () => {
		const t = new SshTransport({ host: parseHostSpec(db.target), identityFiles: [db.key.file], knownHostsFile: db.knownHosts, timeoutMs: 10000, agent: false });
		try {
			const r = await t.runIptables(['iptables', '-V']);
			assert.ok(r.code === 0 || r.code === 127, `${r.code} ${r.stderr}`);
			if (r.code === 0) assert.match(r.stdout, /iptables v/);
			await assert.rejects(t.runIptables(['sh', '-c', 'id']), /not an iptables command/);
		} finally {
			await t.close();
		}
		const refused = await new Promise((resolve) => {
			const p = spawn('sh', ['-c', IPTABLES_BRIDGE, 'nflua-ipt', 'sh', '-c', 'echo pwned'], { stdio: ['ignore', 'pipe', 'pipe'] });
			let out = '';
			p.stdout.on('data', (b) => (out += b));
			p.on('close', (code) => resolve({ code, out }));
		});
		assert.equal(refused.code, 68);
		assert.equal(refused.out, '');
	});
	it('receive waits, and Ctrl-C ends it on the router too (SSH signal to the bridge)', async () => {
		const dev = spawn('python3', [join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'blocking-device.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
		let devOut = '';
		dev.stdout.on('data', (b) => (devOut += b));
		while (!devOut.includes('\n')) await new Promise((r) => setTimeout(r, 20));
		const pts = devOut.trim();
		const env = { ...process.env, CI: 'true' };
		delete env.SSH_AUTH_SOCK;
		const p = spawn(process.execPath, [BIN, ...base(), '--device', pts, 'receive', 'web', '--follow'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let err = '';
		p.stderr.on('data', (b) => (err += b));
		const closed = new Promise((r) => p.on('close', (code, signal) => r({ code, signal })));
		try {
			// the bridge on the "router" holds the device once the receive is under way (on a
			// loaded machine that can take seconds: wait for it rather than for a fixed time)
			const deadline = Date.now() + 20000;
			while (holders(pts) === 0 && p.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
			await new Promise((r) => setTimeout(r, 500));
			assert.equal(p.exitCode, null, `receive must wait: ${err}`);
			assert.ok(holders(pts) > 0, 'the bridge never opened the device');
			const t0 = Date.now();
			p.kill('SIGINT');
			const { code, signal } = await closed;
			assert.equal(code, 130, `${err} (signal ${signal})`);
			assert.ok(Date.now() - t0 < 5000);
			await new Promise((r) => setTimeout(r, 500));
		} finally {
			p.kill('SIGKILL');
			dev.stdin.end();
			await new Promise((r) => dev.on('close', r));
		}
		assert.match(devOut, /holders 0\n/, 'the bridge must not be left reading the device');
	});
	it('never asks for sftp or scp: every operation is an exec', async () => {
		const { Client } = ssh2;
		const orig = { sftp: Client.prototype.sftp, subsys: Client.prototype.subsys };
		const execs = [];
		const origExec = Client.prototype.exec;
		Client.prototype.sftp = () => assert.fail('sftp used');
		Client.prototype.subsys = () => assert.fail('subsystem used');
		Client.prototype.exec = function (cmd, ...rest) {
			execs.push(cmd);
			return origExec.call(this, cmd, ...rest);
		};
		const op = O.execute('web', 'x.lua', 'return 1');
		const dev = tape(op, P.encodeReply(0, ['1']));
		const t = new SshTransport({ host: parseHostSpec(db.target), identityFiles: [db.key.file], knownHostsFile: db.knownHosts, timeoutMs: 10000, agent: false, device: dev });
		try {
			assert.deepEqual(op.parse(await t.call(op.request)).map(P.text), ['1']);
		} finally {
			await t.close();
			Object.assign(Client.prototype, orig, { exec: origExec });
		}
		assert.equal(execs.length, 1);
		assert.match(execs[0], /^exec sh -c '.*exec 3<>"\$d"/s);
	});
});
