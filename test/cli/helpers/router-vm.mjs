// A QEMU "router" for the router tests: test/vm/router-vm.sh boots kernel 6.1 with nflua.ko,
// the iptables extensions, dropbear (root, our key) and busybox httpd; QEMU forwards two free
// ports on 127.0.0.1 to the guest's :22 and :80. The guest case waits until done() creates
// /tmp/router-done over SSH; run.sh then judges the case and the kernel log, and finished()
// gives its exit status and output.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { ROOT } from './build.mjs';
import { freePort } from './dropbear.mjs';

const KEY = '6.1';
export const LOGDIR = join(ROOT, 'build', 'vm', `router-${KEY}`);
const READY = /^ {2}\| ROUTER-READY$/m;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** pid and every descendant (read from /proc), so a process that left our group dies too. */
function tree(pid) {
	const kids = new Map();
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			// "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'
			const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			if (!kids.has(ppid)) kids.set(ppid, []);
			kids.get(ppid).push(Number(d));
		} catch {
			/* gone meanwhile */
		}
	}
	const all = [];
	const walk = (p) => {
		all.push(p);
		for (const k of kids.get(p) ?? []) walk(k);
	};
	walk(pid);
	return all;
}

export class RouterVm {
	/**
	 * Makes the keys, picks the ports and boots the VM; resolves when the guest is ready. With
	 * fleet N, the router also runs N routers as network namespaces behind it (fleetAddress(i)),
	 * each with its own dropbear, reached with this router as the jump host. With openwrt, the
	 * guest also gets OpenWrt's runtime and our router-side files (scripts/openwrt-guest-files.sh:
	 * uci, the init script, the busybox nfluactl with its apply).
	 */
	async start(readyMs, { fleet = 0, openwrt = false } = {}) {
		const missing = ['dropbear', 'dropbearkey', 'curl', 'qemu-system-x86_64'].filter((t) => {
			try {
				execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
				return false;
			} catch {
				return true;
			}
		});
		if (missing.length > 0) throw new Error(`missing on this host: ${missing.join(', ')} (scripts/test-cli.sh installs dropbear-bin; scripts/host-deps.sh the rest)`);
		this.dir = mkdtempSync(join(tmpdir(), 'nfluactl-router-'));
		const hostKey = join(this.dir, 'dropbear_ed25519_host_key');
		execFileSync('dropbearkey', ['-t', 'ed25519', '-f', hostKey], { stdio: 'ignore' });
		const hostPub = execFileSync('dropbearkey', ['-y', '-f', hostKey], { encoding: 'utf8' })
			.split('\n')
			.find((l) => l.startsWith('ssh-'))
			.split(' ')
			.slice(0, 2)
			.join(' ');
		const k = ssh2.utils.generateKeyPairSync('ed25519');
		this.keyFile = join(this.dir, 'id_router');
		writeFileSync(this.keyFile, k.private, { mode: 0o600 });
		writeFileSync(join(this.dir, 'authorized_keys'), `${k.public.trim()}\n`);
		this.sshPort = await freePort();
		do this.httpPort = await freePort();
		while (this.httpPort === this.sshPort);
		this.knownHosts = join(this.dir, 'known_hosts');
		writeFileSync(this.knownHosts, `[127.0.0.1]:${this.sshPort} ${hostPub}\n`);
		this.hostPub = hostPub;
		this.sshConfig = join(this.dir, 'ssh_config'); // empty: the user's ~/.ssh/config stays out
		writeFileSync(this.sshConfig, '');
		this.target = `root@127.0.0.1:${this.sshPort}`;
		this.httpUrl = `http://127.0.0.1:${this.httpPort}/`;

		// a result.log from an earlier run must not look like this run's READY
		rmSync(join(LOGDIR, 'result.log'), { force: true });
		this.output = '';
		// its own process group, so after() can end it all (QEMU runs under timeout(1), which
		// makes a group of its own: tree() finds it)
		const extra = [];
		if (fleet > 0) {
			writeFileSync(join(this.dir, 'fleet'), `${fleet}\n`);
			extra.push('--file', `${join(this.dir, 'fleet')}:/etc/nflua-fleet`);
		}
		this.fleet = fleet;
		if (openwrt) {
			const args = execFileSync(join(ROOT, 'scripts', 'openwrt-guest-files.sh'), { encoding: 'utf8', maxBuffer: 16 << 20 }).split('\n').filter((l) => l !== '');
			extra.push(...args);
		}
		this.proc = spawn(join(ROOT, 'test', 'vm', 'router-vm.sh'), [KEY, String(this.sshPort), String(this.httpPort), this.dir, ...extra], {
			cwd: ROOT,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const add = (b) => (this.output += b.toString());
		this.proc.stdout.on('data', add);
		this.proc.stderr.on('data', add);
		this.exit = new Promise((resolve) => this.proc.once('close', (code, signal) => resolve({ code, signal })));
		this.exited = false;
		void this.exit.then(() => (this.exited = true));

		const end = Date.now() + readyMs;
		for (;;) {
			if (this.exited) throw new Error(`the router VM stopped before it was ready:\n${this.output}`);
			const rlog = join(LOGDIR, 'result.log');
			if (existsSync(rlog) && READY.test(readFileSync(rlog, 'utf8'))) break;
			if (Date.now() > end) throw new Error(`the router VM was not ready after ${readyMs / 1000} s:\n${this.output}`);
			await sleep(200);
		}
		this.ready = true;
		return this;
	}

	/** The address of fleet router i (1-based) behind this router. */
	fleetAddress(i) {
		return `10.98.${Math.floor(i / 250)}.${(i % 250) + 2}`;
	}

	/**
	 * An Ansible INI inventory of the fleet (f1..fN) with this router as the jump host, and the
	 * known_hosts lines for them (they share the router's host key).
	 */
	fleetInventory() {
		const lines = ['[fleet]'];
		for (let i = 1; i <= this.fleet; i++) lines.push(`f${String(i).padStart(3, '0')} ansible_host=${this.fleetAddress(i)}`);
		lines.push('[fleet:vars]', 'ansible_user=root', `ansible_ssh_common_args='-o ProxyJump=${this.target}'`);
		writeFileSync(this.knownHosts, [`[127.0.0.1]:${this.sshPort} ${this.hostPub}`, ...Array.from({ length: this.fleet }, (_, k) => `${this.fleetAddress(k + 1)} ${this.hostPub}`)].join('\n') + '\n');
		return `${lines.join('\n')}\n`;
	}

	/** The global options that point nfluactl at this router. */
	get cliArgs() {
		return ['--host', this.target, '-i', this.keyFile, '--known-hosts', this.knownHosts, '--ssh-config', this.sshConfig, '--timeout', '60'];
	}

	/** Runs one command in the guest over SSH (ssh2, host key pinned). */
	exec(command) {
		const [type, b64] = this.hostPub.split(' ');
		return new Promise((resolve, reject) => {
			const c = new ssh2.Client();
			c.once('error', reject);
			c.once('ready', () => {
				c.exec(command, (err, ch) => {
					if (err) {
						c.end();
						reject(err);
						return;
					}
					let out = '';
					ch.on('data', (d) => (out += d));
					ch.stderr.on('data', (d) => (out += d));
					ch.once('close', (code) => {
						c.end();
						resolve({ code, out });
					});
				});
			});
			c.connect({
				host: '127.0.0.1',
				port: this.sshPort,
				username: 'root',
				privateKey: readFileSync(this.keyFile),
				readyTimeout: 60000,
				hostVerifier: (key) => type === 'ssh-ed25519' && Buffer.from(key).equals(Buffer.from(b64, 'base64')),
			});
		});
	}

	/** Tells the guest case to finish; resolves with run.sh's {code, signal, output}. */
	async finish(ms) {
		if (!this.exited) {
			const r = await this.exec('echo host-done >/tmp/router-done');
			if (r.code !== 0) throw new Error(`could not signal the guest: ${r.out}`);
		}
		let timer;
		const late = new Promise((resolve) => {
			timer = setTimeout(() => resolve({ code: null, signal: 'test-timeout' }), ms);
		});
		const r = await Promise.race([this.exit, late]);
		clearTimeout(timer); // a pending timer would keep mocha from exiting
		return { ...r, output: this.output };
	}

	/** Ends whatever is left (VM, run.sh, build) and removes the keys. Never throws. */
	async stop() {
		if (this.proc !== undefined && !this.exited) {
			if (this.ready) {
				try {
					await this.finish(60000);
				} catch {
					/* the guest is beyond reach: killed below */
				}
			}
			if (!this.exited) {
				const pids = tree(this.proc.pid);
				try {
					process.kill(-this.proc.pid, 'SIGKILL');
				} catch {
					/* group gone */
				}
				for (const p of pids) {
					try {
						process.kill(p, 'SIGKILL');
					} catch {
						/* gone */
					}
				}
				await this.exit;
			}
		}
		if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
	}
}
