// The single executables (scripts/build-sea.sh): x64 run directly, arm64 under
// qemu-aarch64-static with an arm64 libc (NFLUA_ARM64_ROOT, made by scripts/test-cli.sh). Each
// runs --version, --help, and a real command over SSH against dropbear.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, mod } from './helpers/build.mjs';
import { Dropbear } from './helpers/dropbear.mjs';

const P = await mod('core/protocol.js');
const O = await mod('core/ops.js');

const targets = [
	{ arch: 'x64', bin: join(ROOT, 'dist', 'nfluactl-linux-x64'), wrap: (args) => args },
	{
		arch: 'arm64',
		bin: join(ROOT, 'dist', 'nfluactl-linux-arm64'),
		wrap: (args) => {
			const sysroot = process.env.NFLUA_ARM64_ROOT;
			assert.ok(sysroot && existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1')), 'NFLUA_ARM64_ROOT must hold an arm64 libc (scripts/test-cli.sh makes it)');
			return ['qemu-aarch64-static', '-L', sysroot, ...args];
		},
	},
];

function run(argv) {
	return new Promise((resolve) => {
		const env = { ...process.env, CI: 'true', FORCE_COLOR: '0' };
		delete env.SSH_AUTH_SOCK;
		const p = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		p.stdout.on('data', (b) => (out += b));
		p.stderr.on('data', (b) => (err += b));
		p.on('error', (e) => resolve({ code: -1, stdout: '', stderr: String(e) }));
		p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
	});
}

describe('single executables (SEA)', function () {
	this.timeout(120000);
	const db = new Dropbear();
	before(async () => {
		await db.start();
	});
	after(async () => {
		await db.stop();
	});
	for (const t of targets) {
		describe(`nfluactl-linux-${t.arch}`, () => {
			before(() => {
				assert.ok(existsSync(t.bin), `${t.bin} is missing: run scripts/build-sea.sh`);
			});
			it('--version and --help, with nothing on stderr', async () => {
				let r = await run(t.wrap([t.bin, '--version']));
				assert.equal(r.code, 0, r.stderr);
				assert.equal(r.stdout, 'nfluactl 0.1.0\n');
				assert.equal(r.stderr, '');
				r = await run(t.wrap([t.bin, '--help']));
				assert.equal(r.code, 0, r.stderr);
				assert.match(r.stdout, /Commands:[\s\S]*nfluactl rule /);
			});
			it('maps errors to exit codes like the node build', async () => {
				const r = await run(t.wrap([t.bin, '--device', '/nonexistent', 'list']));
				assert.equal(r.code, 3);
				assert.equal(r.stderr, 'nfluactl: list: /nonexistent does not exist\n');
			});
			it('list over SSH against dropbear (pure-JS ssh2 crypto inside the SEA)', async () => {
				const line = 'name=web maxalloc=1048576 mem=23040 peak=30112 budget=100000 rules=0 calls=12 errors=1 budget_hits=0';
				const dev = join(db.dir, `dev-${t.arch}`);
				writeFileSync(dev, Buffer.concat([Buffer.from(P.concat(O.list().request.chunks)), Buffer.from(P.encodeReply(0, [line]))]));
				const r = await run(t.wrap([t.bin, '--host', db.target, '-i', db.key.file, '--known-hosts', db.knownHosts, '--device', dev, '--json', 'list']));
				assert.equal(r.code, 0, r.stderr);
				assert.deepEqual(JSON.parse(r.stdout)[0].name, 'web');
			});
		});
	}
});
