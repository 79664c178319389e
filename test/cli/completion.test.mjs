// Shell completion: the candidates nfluactl gives the completion script (in-process), including
// the nested `rule add|del|list` and their options, and the bash script itself driving the built
// nfluactl the way bash's programmable completion does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './helpers/build.mjs';
import { runCli } from './helpers/fake.mjs';

const COMMANDS = ['create', 'destroy', 'list', 'execute', 'send', 'receive', 'stats', 'set', 'version', 'completion', 'rule'];

async function candidates(...words) {
	const r = await runCli(['--get-yargs-completions', ...words]);
	assert.equal(r.code, 0, r.stderr);
	assert.equal(r.stderr, '');
	return r.stdout.split('\n').filter((l) => l !== '');
}

describe('completion', () => {
	it('commands at the top level', async () => {
		for (const words of [[''], ['--host', 'r1', '']]) {
			const c = await candidates(...words);
			for (const cmd of COMMANDS) assert.ok(c.includes(cmd), `${cmd} in ${c}`);
			assert.ok(!c.includes('add'), `rule's subcommands stay under rule: ${c}`);
		}
	});
	it('rule: its subcommands add, del, list', async () => {
		assert.deepEqual(await candidates('rule', ''), ['add', 'del', 'list']);
		assert.deepEqual(await candidates('--json', 'rule', 'd'), ['add', 'del', 'list']); // bash filters by prefix
	});
	it('options of nested and plain commands', async () => {
		const add = await candidates('rule', 'add', '--');
		for (const o of ['--state', '--function', '--verdict', '--dport', '--tcp-payload', '--insert', '--host']) assert.ok(add.includes(o), `rule add: ${o} in ${add}`);
		// `rule list` has the options of rule list, not those of the top-level `list`
		const list = await candidates('rule', 'list', '--');
		assert.ok(list.includes('--state') && list.includes('--table') && !list.includes('--dport'), `rule list: ${list}`);
		const top = await candidates('list', '--');
		assert.ok(!top.includes('--state'), `list: ${top}`);
		const create = await candidates('create', '--');
		assert.ok(create.includes('--maxalloc') && create.includes('--budget'), `create: ${create}`);
	});
	it('the bash script completes `nfluactl rule d` to del with the built nfluactl', function () {
		this.timeout(30000);
		const dir = mkdtempSync(join(tmpdir(), 'nfluactl-comp-'));
		try {
			// the script calls `nfluactl` by name: put the built one on PATH
			writeFileSync(join(dir, 'nfluactl'), `#!/bin/sh\nexec node ${JSON.stringify(BIN)} "$@"\n`, { mode: 0o755 });
			const script = execFileSync(join(dir, 'nfluactl'), ['completion'], { encoding: 'utf8' });
			const probe = (line) =>
				execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _nfluactl_completions; printf '%s\\n' "\${COMPREPLY[@]}"`], {
					encoding: 'utf8',
					env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
				});
			assert.equal(probe("nfluactl rule d"), 'del\n');
			assert.equal(probe("nfluactl rule ''"), 'add\ndel\nlist\n');
			assert.equal(probe('nfluactl rule add --sta'), '--state\n');
			assert.equal(probe('nfluactl -H r1 rule list --sta'), '--state\n');
			assert.equal(probe('nfluactl cr'), 'create\n');
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
