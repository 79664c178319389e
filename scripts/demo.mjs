// The demo (make demo): a QEMU router boots (Debian 6.1 kernel, nflua.ko, the iptables
// extensions, dropbear, busybox httpd, the router-side nfluactl) with a few more routers behind
// it as network namespaces, and this host's nfluactl applies the User-Agent policy
// (policies/fleet/http_ua.yaml) to all of them over SSH, the router as the jump host: progress
// and recap. Then real HTTP requests from this host: a browser's is served, curl's is blocked
// by Lua in the router's kernel. A re-apply is ok; a policy change is shown with --check --diff,
// then applied. Every step is checked: the demo fails if one does not do what it
// says. The router's kernel log is judged at the end like every VM test's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** the same, with stderr on this terminal: the live progress line of fleet commands shows */
function live(args) {
	process.stdout.write(`$ nfluactl ${args.map(quote).join(' ')}\n`);
	return new Promise((resolve) => {
		const p = spawn(process.execPath, [BIN, ...opts, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
		let out = '';
		p.stdout.on('data', (b) => {
			out += b;
			process.stdout.write(b);
		});
		p.on('close', (code) => resolve({ code, out }));
	});
}

const FLEET = 4;

async function main() {
	say(`Boot a router in QEMU: Debian 6.1 kernel with nflua.ko, dropbear (SSH), a web server, and ${FLEET} more routers behind it (network namespaces, each its own SSH server, Lua states and iptables)`);
	vm = await new RouterVm().start(600000, { fleet: FLEET, openwrt: true });
	const cfg = join(scratch, 'ssh_config');
	writeFileSync(cfg, `Host router\n  HostName 127.0.0.1\n  Port ${vm.sshPort}\n  User root\n  IdentityFile ${vm.keyFile}\n`);
	opts = ['-F', cfg, '--known-hosts', vm.knownHosts, '--timeout', '60'];
	vm.fleetInventory(); /* known_hosts lines for the routers behind it */
	console.log(`router: root@127.0.0.1:${vm.sshPort} (SSH), its web server on http://127.0.0.1:${vm.httpPort}/`);
	console.log(`(every nfluactl below also gets -F ${cfg} --known-hosts ${vm.knownHosts}: "router" is a Host there)`);

	say('The fleet: an inventory (Ansible INI) of the router and the routers behind it, reached through it as the jump host');
	const inv = join(scratch, 'routers.ini');
	const edges = Array.from({ length: FLEET }, (_, k) => `edge-${k + 1} ansible_host=${vm.fleetAddress(k + 1)}`);
	writeFileSync(inv, `[gw]\nrouter\n[edge]\n${edges.join('\n')}\n[edge:vars]\nansible_user=root\nansible_ssh_common_args='-o ProxyJump=router'\nansible_ssh_private_key_file=${vm.keyFile}\n`);
	process.stdout.write(readFileSync(inv, 'utf8'));
	await must(nfluactl('inventory', '-i', inv), 'inventory');
	await must(nfluactl('ping', '-i', inv), 'ping');

	const policy = 'policies/fleet/http_ua.yaml';
	say(`The User-Agent policy: a Lua state, its scripts and a variable (the block list), and the rule that calls it (${policy})`);
	process.stdout.write(readFileSync(join(ROOT, policy), 'utf8'));

	say('Apply it to every router: one SSH connection and one transaction per router; a live progress line, then the recap');
	const a1 = await live(['apply', policy, '-i', inv]);
	if (a1.code !== 10) throw new Error(`apply: exit ${a1.code}, expected 10 (changed)`);

	say('A browser\'s request is served');
	const ok = await show(`curl -sS --max-time 20 -A "Mozilla/5.0" ${vm.httpUrl}`, ['curl', '-sS', '--max-time', '20', '-A', 'Mozilla/5.0', vm.httpUrl]);
	if (ok.code !== 0 || !ok.out.includes('hello from the router')) throw new Error('the browser\'s request was not served');

	say('curl\'s own User-Agent is on the block list: Lua in the router\'s kernel drops the request');
	const blocked = await show(`curl -sS --max-time 5 ${vm.httpUrl}`, ['curl', '-sS', '--max-time', '5', vm.httpUrl]);
	if (blocked.code !== 28) throw new Error(`curl's request was not blocked (curl exit ${blocked.code})`);
	console.log('(blocked: no answer within 5 s)');
	await must(nfluactl('-H', 'router', 'list'), 'list');

	say('Apply again: every router is ok, nothing touched (states and rule counters go on)');
	const a2 = await live(['apply', policy, '-i', inv]);
	if (a2.code !== 0) throw new Error(`apply again: exit ${a2.code}, expected 0 (ok)`);

	say('Change the policy (one more word on the block list), and ask first: --check --diff changes nothing');
	const changed = join(scratch, 'http_ua.yaml');
	writeFileSync(changed, readFileSync(join(ROOT, policy), 'utf8')
		.replace(/- \.\.\/http_ua\.lua/, `- ${join(ROOT, 'policies', 'http_ua.lua')}`)
		.replace(/- http_ua_list\.lua/, `- ${join(ROOT, 'policies', 'fleet', 'http_ua_list.lua')}`)
		.replace(/^(\s+)BLOCKED_AGENTS: \[/m, '$1BLOCKED_AGENTS: [python-requests, '));	// (the list, not the comment)
	const c = await live(['apply', changed, '-i', inv, '--check', '--diff']);
	if (c.code !== 10 || !c.out.includes('+\t"python-requests",')) throw new Error(`apply --check --diff: exit ${c.code}, or no diff`);
	const still = await show(`curl -sS --max-time 20 -A python-requests/2.31 ${vm.httpUrl}`, ['curl', '-sS', '--max-time', '20', '-A', 'python-requests/2.31', vm.httpUrl]);
	if (still.code !== 0) throw new Error('--check changed something');

	say('Now apply it: the new list, switched without a moment unfiltered');
	const a3 = await live(['apply', changed, '-i', inv]);
	if (a3.code !== 10) throw new Error(`apply of the change: exit ${a3.code}`);
	const now = await show(`curl -sS --max-time 5 -A python-requests/2.31 ${vm.httpUrl}`, ['curl', '-sS', '--max-time', '5', '-A', 'python-requests/2.31', vm.httpUrl]);
	if (now.code !== 28) throw new Error(`python-requests was not blocked (curl exit ${now.code})`);
	console.log('(blocked: no answer within 5 s)');

	say('Mistakes come back with the chunk name and line; a runaway script is stopped by the budget');
	const bad = join(scratch, 'bad.lua');
	writeFileSync(bad, 'local x = 1\nreturn x.y.z\n');
	const e1 = await nfluactl('-H', 'router', 'execute', 'web', bad);
	if (e1.code !== 1 || !e1.out.includes('bad.lua:2:')) throw new Error('the Lua error did not name bad.lua:2');
	const e2 = await nfluactl('-H', 'router', 'execute', 'web', '-e', 'while true do end');
	if (e2.code !== 1 || !e2.out.includes('instruction budget exhausted')) throw new Error('the budget did not stop the loop');

	say('Clean up: an empty policy removes every state and rule apply made');
	const empty = join(scratch, 'empty.yaml');
	writeFileSync(empty, 'states: []\n');
	const a4 = await live(['apply', empty, '-i', inv]);
	if (a4.code !== 10) throw new Error(`apply of the empty policy: exit ${a4.code}`);
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
