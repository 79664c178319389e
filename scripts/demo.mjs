// The demo (make demo): a QEMU router boots (Debian 6.1 kernel, nflua.ko, the iptables
// extensions, dropbear, busybox httpd), and this host's nfluactl provisions it over SSH: a Lua
// state, the User-Agent policy loaded into it, an iptables rule calling it. Then real HTTP
// requests from this host: a browser's is served, curl's is blocked by Lua in the router's
// kernel; the counters show it. Every step is checked: the demo fails if one does not do what it
// says. The router's kernel log is judged at the end like every VM test's.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouterVm } from '../test/cli/helpers/router-vm.mjs';
import { BIN, ROOT } from '../test/cli/helpers/build.mjs';

const say = (s) => process.stdout.write(`\n### ${s}\n`);
const scratch = mkdtempSync(join(tmpdir(), 'nflua-demo-'));

/** Runs a command, shows it and what it printed; returns {code, out}. */
function show(shown, argv, { env } = {}) {
	process.stdout.write(`$ ${shown}\n`);
	return new Promise((resolve) => {
		const p = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		const tee = (b) => {
			out += b;
			process.stdout.write(b);
		};
		p.stdout.on('data', tee);
		p.stderr.on('data', tee);
		p.on('close', (code) => resolve({ code, out }));
	});
}

let vm;
let opts;
/** nfluactl -H router ARGS, as the operator would type it (the SSH details are in an ssh config). */
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
const nfluactl = (...args) => show(`nfluactl ${args.map(quote).join(' ')}`, [process.execPath, BIN, ...opts, ...args]);
async function must(p, what) {
	const r = await p;
	if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code})`);
	return r;
}

async function main() {
	say('Boot a router in QEMU: Debian 6.1 kernel with nflua.ko, dropbear (SSH) and a web server');
	vm = await new RouterVm().start(240000);
	const cfg = join(scratch, 'ssh_config');
	writeFileSync(cfg, `Host router\n  HostName 127.0.0.1\n  Port ${vm.sshPort}\n  User root\n  IdentityFile ${vm.keyFile}\n`);
	opts = ['-F', cfg, '--known-hosts', vm.knownHosts, '--timeout', '60'];
	console.log(`router: root@127.0.0.1:${vm.sshPort} (SSH), its web server on http://127.0.0.1:${vm.httpPort}/`);
	console.log(`(every nfluactl below also gets -F ${cfg} --known-hosts ${vm.knownHosts}: "router" is a Host there)`);

	say('The fleet view: an inventory with this router, and a check that it answers');
	const inv = join(scratch, 'routers.ini');
	writeFileSync(inv, '[edge]\nrouter\n');
	await must(nfluactl('inventory', '-i', inv), 'inventory');
	await must(nfluactl('ping', '-i', inv), 'ping');

	say('Create a Lua state in the router\'s kernel: 1 MiB memory cap, 100,000 instructions per call');
	await must(nfluactl('-H', 'router', 'create', 'web', '--maxalloc', '1M', '--budget', '100000'), 'create');

	say('Load the User-Agent policy and its block list (policies/http_ua.lua, http_ua.conf.lua)');
	await must(nfluactl('-H', 'router', 'execute', 'web', 'policies/http_ua.lua'), 'execute policy');
	await must(nfluactl('-H', 'router', 'execute', 'web', 'policies/http_ua.conf.lua'), 'execute config');

	say('The rule: HTTP requests to the router go to http_ua_match; true means DROP');
	await must(nfluactl('-H', 'router', 'rule', 'add', 'INPUT', '-p', 'tcp', '--dport', '80', '--state', 'web', '--function', 'http_ua_match', '--tcp-payload'), 'rule add');
	await must(nfluactl('-H', 'router', 'rule', 'list'), 'rule list');

	say('A browser\'s request is served');
	const ok = await show(`curl -sS --max-time 20 -A "Mozilla/5.0" ${vm.httpUrl}`, ['curl', '-sS', '--max-time', '20', '-A', 'Mozilla/5.0', vm.httpUrl]);
	if (ok.code !== 0 || !ok.out.includes('hello from the router')) throw new Error('the browser\'s request was not served');

	say('curl\'s own User-Agent is on the block list: Lua in the router\'s kernel drops the request');
	const blocked = await show(`curl -sS --max-time 5 ${vm.httpUrl}`, ['curl', '-sS', '--max-time', '5', vm.httpUrl]);
	if (blocked.code !== 28) throw new Error(`curl's request was not blocked (curl exit ${blocked.code})`);
	console.log('(blocked: no answer within 5 s)');

	say('The counters: calls into Lua, and what matched');
	await must(nfluactl('-H', 'router', 'list'), 'list');
	const st = await must(nfluactl('-H', 'router', 'stats', 'web'), 'stats');
	if (!/^matches=[1-9]/m.test(st.out)) throw new Error('stats show no match');

	say('Mistakes come back with the chunk name and line; a runaway script is stopped by the budget');
	const bad = join(scratch, 'bad.lua');
	writeFileSync(bad, 'local x = 1\nreturn x.y.z\n');
	const e1 = await nfluactl('-H', 'router', 'execute', 'web', bad);
	if (e1.code !== 1 || !e1.out.includes('bad.lua:2:')) throw new Error('the Lua error did not name bad.lua:2');
	const e2 = await nfluactl('-H', 'router', 'execute', 'web', '-e', 'while true do end');
	if (e2.code !== 1 || !e2.out.includes('instruction budget exhausted')) throw new Error('the budget did not stop the loop');

	say('Clean up: the rule, then the state');
	await must(nfluactl('-H', 'router', 'rule', 'del', 'INPUT', '-p', 'tcp', '--dport', '80', '--state', 'web', '--function', 'http_ua_match', '--tcp-payload'), 'rule del');
	await must(nfluactl('-H', 'router', 'destroy', 'web'), 'destroy');
	await must(nfluactl('-H', 'router', 'list'), 'list');
}

let status = 0;
try {
	await main();
} catch (e) {
	console.error(`\ndemo: FAILED: ${e.message}`);
	status = 1;
}
if (vm?.ready) {
	const r = await vm.finish(120000);
	const verdict = /^(\d+) passed, (\d+) failed$/m.exec(r.output);
	if (r.code !== 0 || !verdict || verdict[2] !== '0') {
		console.error(`\ndemo: the router's own check failed (state or rule left behind, or a dirty kernel log):\n${r.output}`);
		status = 1;
	} else {
		say('The router shut down: nothing left behind, kernel log clean');
	}
}
await vm?.stop();
rmSync(scratch, { recursive: true, force: true });
process.exit(status);
