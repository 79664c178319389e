// The fleet benchmark (make bench, after the packet-path one): nfluactl apply to routers behind
// the QEMU router (network namespaces, each its own dropbear, states and iptables, reached with
// the router as the jump host), at several fork counts, as routers per second and as a ratio to
// a bare ssh2 fan-out (`exec true` on each router, the same jump host, the same forks): the
// SSH handshakes are the limit here, and the ratio says what apply costs on top of them.
// Two apply runs per point: "changed" (the policy alternates, so every router switches) and
// "ok" (the same policy again: nothing to do). The CLI's peak memory (max RSS, /usr/bin/time)
// at each inventory size shows it flat in the inventory's size. Writes build/bench/fleet.txt.
// Environment: BENCH_FLEET (routers in the VM, default 100), BENCH_SIZES (default "10,100"),
// BENCH_FORKS (default "1,10,50").
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { BIN, ROOT } from '../test/cli/helpers/build.mjs';
import { RouterVm } from '../test/cli/helpers/router-vm.mjs';

const FLEET = Number(process.env.BENCH_FLEET ?? 100);
const SIZES = (process.env.BENCH_SIZES ?? '10,100').split(',').map(Number).filter((n) => n <= FLEET);
const FORKS = (process.env.BENCH_FORKS ?? '1,10,50').split(',').map(Number);
const out = join(ROOT, 'build', 'bench');
mkdirSync(out, { recursive: true });

function run(argv) {
	return new Promise((resolve) => {
		const env = { ...process.env, CI: 'true' };
		delete env.SSH_AUTH_SOCK;
		const p = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let o = '';
		let e = '';
		p.stdout.on('data', (b) => (o += b));
		p.stderr.on('data', (b) => (e += b));
		p.on('close', (code) => resolve({ code, stdout: o, stderr: e }));
	});
}

/** ssh2 client over a socket or a forwarded channel, our key, the router's pinned host key. */
function connect(vm, sock) {
	const [, b64] = vm.hostPub.split(' ');
	return new Promise((resolve, reject) => {
		const c = new ssh2.Client();
		c.once('ready', () => resolve(c));
		c.once('error', reject);
		c.connect({
			...(sock ? { sock } : { host: '127.0.0.1', port: vm.sshPort }),
			username: 'root',
			privateKey: readFileSync(vm.keyFile),
			readyTimeout: 120000,
			hostVerifier: (key) => Buffer.from(key).equals(Buffer.from(b64, 'base64')),
		});
	});
}

/** The bare fan-out: each router's SSH handshake and `exec true`, `forks` at a time; routers/s. */
async function bare(vm, n, forks) {
	/* as the CLI does: at most 16 routers' channels per jump connection (dropbear's limit is a few dozen) */
	const jumps = await Promise.all(Array.from({ length: Math.ceil(Math.min(forks, n) / 16) }, () => connect(vm)));
	const t = Date.now();
	let next = 1;
	let failed = 0;
	const worker = async (w) => {
		while (next <= n) {
			const i = next++;
			try {
				const jump = jumps[w % jumps.length];
				const sock = await new Promise((res, rej) => jump.forwardOut('127.0.0.1', 0, vm.fleetAddress(i), 22, (e, ch) => (e ? rej(e) : res(ch))));
				const c = await connect(vm, sock);
				await new Promise((res, rej) => c.exec('true', (e, ch) => (e ? rej(e) : ch.on('close', res).resume())));
				c.end();
			} catch {
				failed++;
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(forks, n) }, (_, w) => worker(w)));
	const s = (Date.now() - t) / 1000;
	for (const j of jumps) j.end();
	if (failed > 0) throw new Error(`bare fan-out: ${failed} of ${n} routers failed`);
	return n / s;
}

/** One apply run: routers/s (wall time of the whole command), the CLI's max RSS in MiB. */
async function apply(vm, inv, policy, forks, expect) {
	const t = Date.now();
	const r = await run(['/usr/bin/time', '-f', 'MAXRSS %M', process.execPath, BIN, '--identity', vm.keyFile, '--known-hosts', vm.knownHosts, '--ssh-config', vm.sshConfig,
		'--timeout', '120', 'apply', policy, '-i', inv, '-f', String(forks), '--json']);
	const s = (Date.now() - t) / 1000;
	const doc = JSON.parse(r.stdout.trim().split('\n')[0]);
	if (r.code !== expect) throw new Error(`apply -f ${forks}: exit ${r.code}, expected ${expect}: ${r.stderr}`);
	const rss = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
	return { rate: doc.summary.hosts / s, rss };
}

const vm = new RouterVm();
let status = 0;
try {
	console.log(`bench-fleet: booting the router with ${FLEET} routers behind it`);
	await vm.start(1150000, { fleet: FLEET, openwrt: true });
	const full = vm.fleetInventory().split('\n');
	const dir = join(vm.dir, 'bench');
	mkdirSync(dir);
	const pol = (file, words) => {
		writeFileSync(join(dir, file), readFileSync(join(ROOT, 'policies', 'fleet', 'http_ua.yaml'), 'utf8')
			.replace(/- \.\.\/http_ua\.lua/, `- ${join(ROOT, 'policies', 'http_ua.lua')}`)
			.replace(/- http_ua_list\.lua/, `- ${join(ROOT, 'policies', 'fleet', 'http_ua_list.lua')}`)
			.replace(/^(\s+)BLOCKED_AGENTS: \[[^\]]*\]/m, `$1BLOCKED_AGENTS: ${JSON.stringify(words)}`));	// (the list, not the comment)
		return join(dir, file);
	};
	const pols = [pol('a.yaml', ['sqlmap']), pol('b.yaml', ['sqlmap', 'nikto'])];
	const rows = [];
	let which = 0;
	for (const n of SIZES) {
		const inv = join(dir, `fleet-${n}.ini`);
		/* the first n routers: the header line, n host lines, then the vars */
		writeFileSync(inv, [full[0], ...full.slice(1, n + 1), ...full.slice(FLEET + 1)].join('\n'));
		for (const forks of FORKS) {
			const b = await bare(vm, n, forks);
			which = 1 - which;
			const ch = await apply(vm, inv, pols[which], forks, 10);
			const ok = await apply(vm, inv, pols[which], forks, 0);
			rows.push({ n, forks, bare: b, changed: ch.rate, ok: ok.rate, rss: Math.max(ch.rss, ok.rss) });
			console.log(`routers ${n} forks ${forks}: bare ${b.toFixed(1)}/s, apply changed ${ch.rate.toFixed(1)}/s, apply ok ${ok.rate.toFixed(1)}/s, max RSS ${Math.max(ch.rss, ok.rss).toFixed(0)} MiB`);
		}
	}
	/* leave the routers clean for the guest case's own check */
	writeFileSync(join(dir, 'empty.yaml'), 'states: []\n');
	const inv = join(dir, `fleet-${FLEET}.ini`);
	writeFileSync(inv, full.join('\n'));
	await apply(vm, inv, join(dir, 'empty.yaml'), 20, 10);
	const lines = [
		`nflua fleet bench (${new Date().toISOString().slice(0, 16)}Z): nfluactl apply through the QEMU router as jump host to N netns routers, routers/s (wall time, node start included)`,
		`${'routers'.padStart(7)} ${'forks'.padStart(5)} ${'bare/s'.padStart(8)} ${'changed/s'.padStart(10)} ${'ratio'.padStart(6)} ${'ok/s'.padStart(8)} ${'ratio'.padStart(6)} ${'RSS MiB'.padStart(8)}`,
		...rows.map((r) => `${String(r.n).padStart(7)} ${String(r.forks).padStart(5)} ${r.bare.toFixed(1).padStart(8)} ${r.changed.toFixed(1).padStart(10)} ${(r.changed / r.bare).toFixed(2).padStart(6)} ${r.ok.toFixed(1).padStart(8)} ${(r.ok / r.bare).toFixed(2).padStart(6)} ${r.rss.toFixed(0).padStart(8)}`),
	];
	writeFileSync(join(out, 'fleet.txt'), `${lines.join('\n')}\n`);
	console.log(lines.join('\n'));
	const fin = await vm.finish(300000);
	if (fin.code !== 0) {
		console.error(`bench-fleet: the router's own check failed:\n${fin.output}`);
		status = 1;
	}
} catch (e) {
	console.error(`bench-fleet: FAILED: ${e.stack ?? e}`);
	status = 1;
} finally {
	await vm.stop();
}
process.exit(status);
