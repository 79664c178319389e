// A real dropbear on 127.0.0.1 for the SSH tests. dropbear (Debian's dropbear-bin, installed by
// scripts/test-cli.sh) logs in only the user it runs as, with that user's
// ~/.ssh/authorized_keys from the password database; the test key is appended there with a
// marker and removed afterwards (the file and directory too, when the test created them).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const MARKER = 'nfluactl-cli-test';

export function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

function waitPort(port, ms) {
	const end = Date.now() + ms;
	return new Promise((resolve, reject) => {
		const tryOnce = () => {
			const c = connect(port, '127.0.0.1');
			c.once('connect', () => {
				c.destroy();
				resolve();
			});
			c.once('error', () => {
				if (Date.now() > end) reject(new Error(`dropbear did not listen on ${port}`));
				else setTimeout(tryOnce, 50);
			});
		};
		tryOnce();
	});
}

/** The public line ("ssh-ed25519 AAAA...") of a dropbear host key. */
function hostPub(keyFile) {
	const out = execFileSync('dropbearkey', ['-y', '-f', keyFile], { encoding: 'utf8' });
	const line = out.split('\n').find((l) => l.startsWith('ssh-'));
	return line.split(' ').slice(0, 2).join(' ');
}

function newHostKey(dir, name) {
	const f = join(dir, name);
	execFileSync('dropbearkey', ['-t', 'ed25519', '-f', f], { stdio: 'ignore' });
	return { file: f, pub: hostPub(f) };
}

function newClientKey(dir, name) {
	const k = ssh2.utils.generateKeyPairSync('ed25519');
	const f = join(dir, name);
	writeFileSync(f, k.private, { mode: 0o600 });
	return { file: f, pub: k.public.trim() };
}

export class Dropbear {
	async start() {
		this.dir = mkdtempSync(join(tmpdir(), 'nfluactl-ssh-'));
		this.user = userInfo().username;
		this.hostKey = newHostKey(this.dir, 'host_ed25519');
		this.otherHostKey = newHostKey(this.dir, 'other_ed25519');
		this.key = newClientKey(this.dir, 'id_test');
		this.strangerKey = newClientKey(this.dir, 'id_stranger');
		this.authorize();
		this.port = await freePort();
		this.proc = spawn('dropbear', ['-F', '-E', '-s', '-p', `127.0.0.1:${this.port}`, '-r', this.hostKey.file, '-P', join(this.dir, 'pid')], {
			stdio: ['ignore', 'ignore', 'pipe'],
		});
		this.log = '';
		this.proc.stderr.on('data', (b) => {
			this.log += b.toString();
		});
		await waitPort(this.port, 5000);
		this.target = `${this.user}@127.0.0.1:${this.port}`;
		this.knownHosts = this.writeKnownHosts('known_hosts', `[127.0.0.1]:${this.port} ${this.hostKey.pub}\n`);
		return this;
	}

	writeKnownHosts(name, text) {
		const f = join(this.dir, name);
		writeFileSync(f, text);
		return f;
	}

	authorize() {
		const home = userInfo().homedir;
		const sshDir = join(home, '.ssh');
		this.auth = join(sshDir, 'authorized_keys');
		this.createdDir = !existsSync(sshDir);
		if (this.createdDir) mkdirSync(sshDir, { mode: 0o700 });
		this.createdFile = !existsSync(this.auth);
		const old = this.createdFile ? '' : readFileSync(this.auth, 'utf8');
		this.cleanAuthorized(old); // a run that was killed may have left its line
		const now = this.createdFile ? '' : readFileSync(this.auth, 'utf8');
		const sep = now === '' || now.endsWith('\n') ? '' : '\n';
		writeFileSync(this.auth, `${now}${sep}no-pty,no-agent-forwarding,no-X11-forwarding ${this.key.pub} ${MARKER}\n`);
		chmodSync(this.auth, 0o600);
	}

	cleanAuthorized(text) {
		if (text === undefined) return;
		const kept = text.split('\n').filter((l) => !l.endsWith(` ${MARKER}`));
		writeFileSync(this.auth, kept.join('\n'));
	}

	async stop() {
		if (this.proc !== undefined) {
			this.proc.kill('SIGTERM');
			await new Promise((r) => (this.proc.exitCode !== null ? r() : this.proc.once('exit', r)));
		}
		if (this.auth !== undefined && existsSync(this.auth)) {
			this.cleanAuthorized(readFileSync(this.auth, 'utf8'));
			if (this.createdFile && readFileSync(this.auth, 'utf8').trim() === '') unlinkSync(this.auth);
			if (this.createdDir) {
				try {
					rmdirSync(join(userInfo().homedir, '.ssh'));
				} catch {
					/* not empty: something else was put there meanwhile */
				}
			}
		}
		if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
	}
}
