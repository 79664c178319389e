// Paths of the built CLI (make cli / npm run build puts it in build/cli).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BUILD = join(ROOT, 'build', 'cli');
export const BIN = join(BUILD, 'bin.js');
export const mod = (p) => import(join(BUILD, p));

/** Runs the built CLI as a child process (no ssh-agent, no colours): {code, stdout, stderr}. */
export function spawnCli(args, { stdin } = {}) {
	return new Promise((resolve) => {
		const env = { ...process.env, CI: 'true', FORCE_COLOR: '0' };
		delete env.SSH_AUTH_SOCK;
		const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		p.stdout.on('data', (b) => (out += b));
		p.stderr.on('data', (b) => (err += b));
		p.stdin.end(stdin ?? '');
		p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
	});
}
