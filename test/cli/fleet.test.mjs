// Fleet commands against real SSH: `nfluactl ping -i INVENTORY` fans out over a real dropbear on
// 127.0.0.1 (one per host name, reached through the inventory's ansible_host/ansible_port),
// with hosts that cannot be reached, that present another host key, or refuse the user; the
// recap, --json, --json=stream, exit codes, retries, the retry file and --limit @file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dropbear, freePort } from './helpers/dropbear.mjs';
import { mod, spawnCli } from './helpers/build.mjs';
import { runCli } from './helpers/fake.mjs';

const P = await mod('core/protocol.js');
const O = await mod('core/ops.js');

const cli = spawnCli;

describe('fleet: nfluactl ping over SSH (real dropbear)', function () {
	this.timeout(120000);
	const db = new Dropbear();
	let dev;
	let closed;
	let inv;
	/* -f 4: one dropbear stands for every router here, and dropbear drops a client's connections
	 * past 5 unauthenticated ones from one address */
	const base = () => ['--identity', db.key.file, '--known-hosts', db.knownHosts, '--timeout', '20', '-f', '4', '--device', dev];

	before(async () => {
		await db.start();
		/* a stand-in device: the version request, then its reply (the bridge writes the request
		 * over the identical bytes, then reads what follows) */
		dev = join(db.dir, 'dev');
		writeFileSync(dev, Buffer.concat([Buffer.from(P.concat(O.version().request.chunks)), Buffer.from(P.encodeReply(0, ['nflua 0.1.0 lua 5.4.7']))]));
		closed = await freePort();
		/* "localhost" has another key in known_hosts: a reflashed router, or an impostor */
		writeFileSync(db.knownHosts, `[127.0.0.1]:${db.port} ${db.hostKey.pub}\n[localhost]:${db.port} ${db.otherHostKey.pub}\n`);
		inv = join(db.dir, 'routers.ini');
		writeFileSync(inv, `[edge]
edge-[01:12] ansible_host=127.0.0.1 ansible_port=${db.port}
[lab]
gone ansible_host=127.0.0.1 ansible_port=${closed}
impostor ansible_host=localhost ansible_port=${db.port}
stranger ansible_host=127.0.0.1 ansible_port=${db.port} ansible_user=nflua-no-such-user
[all:vars]
ansible_user=${db.user}
`);
	});
	after(async () => {
		await db.stop();
	});

	it('every edge router: ok with its module version; exit 0; the recap', async () => {
		const r = await cli(['ping', '-i', inv, '--limit', 'edge', ...base()]);
		assert.equal(r.code, 0, r.stderr + db.log);
		const lines = r.stdout.trim().split('\n');
		assert.equal(lines[0], 'RECAP');
		assert.equal(lines.length, 14);
		for (let i = 1; i <= 12; i++) assert.match(lines[i], new RegExp(`^edge-${String(i).padStart(2, '0')}  ok  nflua 0\\.1\\.0 lua 5\\.4\\.7$`));
		assert.match(lines[13], /^12 hosts: 12 ok, 0 changed, 0 failed, 0 unreachable in [\d.]+ s$/);
	});
	it('hosts that cannot be reached, present a changed key or refuse the user are unreachable (exit 12), each with why', async () => {
		const retry = join(db.dir, 'retry.txt');
		const r = await cli(['ping', '-i', inv, '--retry-file', retry, ...base()]);
		assert.equal(r.code, 12, r.stderr);
		assert.match(r.stdout, /^gone  unreachable  .*refused.*\(3 tries\)$/m);
		assert.match(r.stdout, /^impostor  unreachable  host key of .*localhost.* has CHANGED/m);
		assert.match(r.stdout, /^stranger  unreachable  .*authentication/im);
		assert.doesNotMatch(r.stdout, /^stranger .*tries/m, 'a refused login is not retried');
		assert.match(r.stdout, /^15 hosts: 12 ok, 0 changed, 0 failed, 3 unreachable in/m);
		assert.match(r.stdout, /retry them: --limit @.*retry\.txt$/m);
		assert.match(r.stderr, /^nfluactl: ping: 3 unreachable of 15 hosts$/m);
		assert.deepEqual(readFileSync(retry, 'utf8').trim().split('\n').sort(), ['gone', 'impostor', 'stranger']);
		const again = await cli(['ping', '-i', inv, '--limit', `@${retry}`, '--retries', '0', '--json', ...base()]);
		assert.equal(again.code, 12);
		const j = JSON.parse(again.stdout.trim().split('\n')[0]);
		assert.deepEqual(j.hosts.map((h) => h.host).sort(), ['gone', 'impostor', 'stranger']);
		const kinds = Object.fromEntries(j.hosts.map((h) => [h.host, h.error.kind]));
		assert.deepEqual(kinds, { gone: 'unreachable', impostor: 'host-key', stranger: 'auth' });
	});
	it('--json: one document with every host and the summary; a failed module call is "failed" (exit 11)', async () => {
		const r = await cli(['--json', 'ping', '-i', inv, '--limit', 'edge-01,edge-02,edge-03', ...base()]);
		assert.equal(r.code, 0, r.stderr);
		const j = JSON.parse(r.stdout);
		assert.equal(j.command, 'ping');
		assert.deepEqual(j.summary.hosts, 3);
		assert.deepEqual(j.hosts[0].data, { module: 'nflua 0.1.0 lua 5.4.7', where: `${db.user}@127.0.0.1:${db.port}` });
		const missing = await cli(['ping', '-i', inv, '--limit', 'edge-01', ...base().slice(0, -1), join(db.dir, 'no-device')]);
		assert.equal(missing.code, 11, missing.stderr);
		assert.match(missing.stdout, /^edge-01  failed  .*does not exist/m);
	});
	it('--json=stream: a JSON line per host as it ends, then the summary; --shard splits the work; report merges the shards', async () => {
		const parts = [];
		const files = [];
		for (const i of [0, 1, 2]) {
			const r = await cli(['--json=stream', 'ping', '-i', inv, '--shard', `${i}/3`, ...base()]);
			assert.ok(r.code === 0 || r.code === 12, r.stderr);
			const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
			if (r.code === 12) assert.equal(lines.pop().error.kind, 'fleet');
			const last = lines.pop();
			assert.equal(last.summary.hosts, lines.length);
			assert.equal(last.hosts, undefined);
			for (const l of lines) assert.equal(l.status, l.host.startsWith('edge') ? 'ok' : 'unreachable', l.host);
			parts.push(...lines.map((l) => l.host));
			files.push(join(db.dir, `shard-${i}.json`));
			writeFileSync(files[i], r.stdout);
		}
		assert.deepEqual(parts.sort(), [...Array.from({ length: 12 }, (_, i) => `edge-${String(i + 1).padStart(2, '0')}`), 'gone', 'impostor', 'stranger']);
		const merged = await cli(['report', ...files]);
		assert.equal(merged.code, 12, merged.stderr);
		assert.match(merged.stdout, /^15 hosts: 12 ok, 0 changed, 0 failed, 3 unreachable in/m);
		assert.match(merged.stdout, /^impostor +unreachable/m);
		const twice = await cli(['report', files[0], files[0]]);
		assert.equal(twice.code, 2);
		assert.match(twice.stderr, /is in two results/);
	});
	it('a terminal gets a live progress line on stderr, cleared at the end; a pipe gets none', async () => {
		const tty = await runCli(['ping', '-i', inv, '--limit', 'edge', ...base()], { stderrIsTTY: true });
		assert.equal(tty.code, 0, tty.stderr);
		assert.match(tty.stderr, /\r\x1b\[K\[ *\d+\/12\] ok \d+  changed 0  failed 0  unreachable 0  [\d.]+\/s  ETA /);
		assert.ok(tty.stderr.endsWith('\r\x1b[K'), 'the line is cleared');
		const piped = await runCli(['ping', '-i', inv, '--limit', 'edge-01', ...base()]);
		assert.equal(piped.stderr, '');
	});
	it('usage: bad --forks, --shard, a host setting nfluactl cannot use, before any connection', async () => {
		for (const [args, re] of [[['--forks', '0'], /--forks 0/], [['--shard', '3/3'], /--shard '3\/3'/], [['--retries', '-1'], /--retries -1/]]) {
			const r = await runCli(['ping', '-i', inv, ...args, ...base()]);
			assert.equal(r.code, 2, r.stderr);
			assert.match(r.stderr, re);
		}
		const bad = join(db.dir, 'bad.ini');
		writeFileSync(bad, `ok1 ansible_host=127.0.0.1\nweird ansible_ssh_common_args='-o ProxyCommand="nc %h %p"'\n`);
		const r = await runCli(['ping', '-i', bad, ...base()]);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /host weird: ProxyCommand/);
	});
});
