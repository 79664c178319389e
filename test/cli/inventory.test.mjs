// Inventories (Ansible INI and YAML), host patterns (--limit), shards (--shard) and the
// `inventory` command. The parser is checked two ways: a table of inputs with the hosts and
// variables Ansible gives for them, and the same inputs read by the real ansible-inventory
// (ansible-core, installed by scripts/test-cli.sh) compared host by host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { runCli } from './helpers/fake.mjs';
import { mod } from './helpers/build.mjs';

const I = await mod('core/inventory.js');
const P = await mod('core/hostpattern.js');

const scratch = mkdtempSync(join(tmpdir(), 'nfluactl-inv-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
function file(text, ext = 'ini') {
	const f = join(scratch, `inv${n++}.${ext}`);
	writeFileSync(f, text);
	return f;
}

/** name -> merged vars, and group -> direct hosts, as nfluactl reads a text */
function view(inv) {
	const hostvars = Object.fromEntries(inv.hosts.map((h) => [h, I.varsOf(inv, h)]));
	const groups = Object.fromEntries([...inv.groups.values()].filter((g) => g.hosts.length > 0).map((g) => [g.name, [...g.hosts].sort()]));
	return { hosts: [...inv.hosts].sort(), hostvars, groups };
}

const CASES = [
	{
		name: 'groups, ranges with leading zeros, letters and steps, a port suffix',
		ini: `gw ansible_host=10.0.0.1
[edge]
edge-[01:03]
core-[a:c]:2200
odd-[1:7:3]
`,
		hosts: ['core-a', 'core-b', 'core-c', 'edge-01', 'edge-02', 'edge-03', 'gw', 'odd-1', 'odd-4', 'odd-7'],
		vars: { 'core-b': { ansible_port: 2200 }, gw: { ansible_host: '10.0.0.1' }, 'edge-02': {} },
		groups: { ungrouped: ['gw'] },
	},
	{
		name: 'values are Python literals where they parse, else text; quotes (removed first, as shlex does) and comments',
		ini: `r1 a=22 b=0x1F c=True d=None e="two words" f='x#y' g=[1,'a'] h={'k':1} i=yes j=1.5 k=010 l=-3 m= # a comment
[g]
r2
[g:vars]
s = spaced value
t='quoted'
u=FALSE
`,
		hosts: ['r1', 'r2'],
		vars: {
			r1: { a: 22, b: 31, c: true, d: null, e: 'two words', f: 'x#y', g: '[1,a]', h: '{k:1}', i: 'yes', j: 1.5, k: '010', l: -3, m: '' },
			r2: { s: 'spaced value', t: 'quoted', u: 'FALSE' },
		},
	},
	{
		name: 'children (declared before their group), precedence by depth then name, host last',
		ini: `[all:vars]
region=world
level=all
[fleet:children]
north
south
[fleet:vars]
region=fleet
level=fleet
[north]
n1 level=host
n2
[north:vars]
region=north
[south]
s1
n2
[south:vars]
region=south
`,
		hosts: ['n1', 'n2', 's1'],
		vars: {
			n1: { region: 'north', level: 'host' },
			n2: { region: 'south', level: 'fleet' },	/* north and south at one depth: the later name wins */
			s1: { region: 'south', level: 'fleet' },
		},
		groups: { north: ['n1', 'n2'], south: ['n2', 's1'] },
	},
	{
		name: 'a host in several sections merges its variables; ansible_* connection settings',
		ini: `[a]
r1 ansible_user=admin ansible_port=2201
[b]
r1 ansible_ssh_private_key_file=/k/id_ed25519 ansible_ssh_common_args='-o ProxyJump=ops@bastion:2222'
`,
		hosts: ['r1'],
		vars: { r1: { ansible_user: 'admin', ansible_port: 2201, ansible_ssh_private_key_file: '/k/id_ed25519', ansible_ssh_common_args: '-o ProxyJump=ops@bastion:2222' } },
	},
];

describe('inventory: Ansible INI', () => {
	for (const c of CASES) {
		it(c.name, () => {
			const v = view(I.parseIniInventory(c.ini, 't.ini'));
			assert.deepEqual(v.hosts, c.hosts);
			for (const [h, want] of Object.entries(c.vars)) assert.deepEqual(v.hostvars[h], want, h);
			for (const [g, want] of Object.entries(c.groups ?? {})) assert.deepEqual(v.groups[g], want, g);
		});
	}
	it('errors name the file and line', () => {
		const bad = [
			['[g:weird]\n', /t\.ini:1: section \[g:weird\] has an unknown type/],
			['[g]\nr1 novalue\n', /t\.ini:2: expected key=value host variable assignment, got 'novalue'/],
			['[g]\nr1:\n', /t\.ini:2: invalid host pattern 'r1:'/],
			['[g]\nr[1:2:0]\n', /bad step/],
			['[g]\nr[09:1]\n', /same width|begin <= end|t\.ini:2/],
			['[p:children]\nnothere\n', /t\.ini:2: section \[p:children\] includes undefined group 'nothere'/],
			['[ghost:vars]\na=1\n', /t\.ini:1: section \[ghost:vars\] is for a group that is not defined/],
			['[a b]\n', /invalid section/],
			['[a:children]\nb\n[b:children]\na\n', /groups contain each other/],
			['r1 x="open\n', /no closing quotation/],
		];
		for (const [text, re] of bad) assert.throws(() => I.parseIniInventory(text, 't.ini'), re, text);
	});
	it('connection: host, port, user, key, jump (ProxyJump, -J, ProxyCommand ssh -W), what is ignored', () => {
		const inv = I.parseIniInventory(`[r]
a ansible_host=192.0.2.1 ansible_port=2222 ansible_user=ops ansible_ssh_private_key_file=/k
b ansible_ssh_common_args='-J jump@bh:22'
c ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p -q -p 2200 ops@bastion" -o StrictHostKeyChecking=no'
d ansible_password=secret
e ansible_ssh_common_args='-o ProxyCommand="nc -X 5 -x proxy %h %p"'
`, 't.ini');
		assert.deepEqual(I.connectionOf(inv, 'a'), { name: 'a', host: '192.0.2.1', port: 2222, user: 'ops', identity: '/k', jump: undefined, ignored: [] });
		assert.equal(I.connectionOf(inv, 'b').jump, 'jump@bh:22');
		assert.equal(I.connectionOf(inv, 'c').jump, 'ops@bastion:2200');
		assert.deepEqual(I.connectionOf(inv, 'c').ignored, ['-o StrictHostKeyChecking=no']);
		assert.deepEqual(I.connectionOf(inv, 'd').ignored, ['ansible_password']);
		assert.equal(I.connectionOf(inv, 'd').user, undefined, 'no user: ssh config, else the local user');
		assert.equal(I.connectionOf(inv, 'd').port, undefined, 'no port: ssh config, else 22');
		assert.throws(() => I.connectionOf(inv, 'e'), /host e: ProxyCommand .* use ProxyJump/);
	});
});

describe('inventory: YAML', () => {
	it('all/hosts/vars/children, ranges and ports in names, as the INI form', () => {
		const y = I.parseInventory(`all:
  vars:
    region: world
  hosts:
    gw:
      ansible_host: 10.0.0.1
  children:
    fleet:
      vars: {region: fleet}
      children:
        north:
          hosts:
            n[1:2]:
            n3:2200: {level: host}
          vars:
            region: north
`, 'fleet.yml');
		const i = I.parseIniInventory(`gw ansible_host=10.0.0.1
[all:vars]
region=world
[fleet:children]
north
[fleet:vars]
region=fleet
[north]
n[1:2]
n3:2200 level=host
[north:vars]
region=north
`, 'fleet.ini');
		assert.deepEqual(view(y), view(i));
		assert.deepEqual(I.varsOf(y, 'n3'), { region: 'north', ansible_port: 2200, level: 'host' });
	});
	it('refuses what is not an inventory', () => {
		assert.throws(() => I.parseInventory('- a\n- b\n', 'x.yml'), /x\.yml: a YAML inventory is a mapping/);
		assert.throws(() => I.parseInventory('all:\n  host:\n    a:\n', 'x.yml'), /x\.yml: all: unknown key 'host'/);
		assert.throws(() => I.parseInventory('all:\n  hosts: [a, b]\n', 'x.yml'), /all\.hosts: must be a mapping/);
	});
});

describe('inventory: the same as ansible-inventory', function () {
	this.timeout(120000);
	const YAML_CASE = `all:
  vars: {v: 1}
  children:
    web:
      hosts:
        w[01:04]:
        w05: {v: 5, ansible_port: 2222}
      vars: {v: 2, role: web}
    db:
      hosts:
        d-[a:c]:
        w01:
`;
	const inputs = [...CASES.map((c) => [c.name, c.ini, 'ini']), ['yaml', YAML_CASE, 'yml']];
	for (const [name, text, ext] of inputs) {
		it(`ansible-inventory --list agrees: ${name}`, () => {
			const f = file(text, ext);
			const out = JSON.parse(execFileSync('ansible-inventory', ['-i', f, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_NOCOLOR: '1' } }));
			const ours = view(I.parseInventory(text, f));
			/* --list leaves hosts without variables out of _meta.hostvars: the groups name them all */
			const theirHosts = new Set(Object.keys(out._meta?.hostvars ?? {}));
			for (const [g, body] of Object.entries(out)) if (g !== '_meta') for (const h of body.hosts ?? []) theirHosts.add(h);
			assert.deepEqual(ours.hosts, [...theirHosts].sort());
			for (const h of ours.hosts) assert.deepEqual(ours.hostvars[h], out._meta?.hostvars?.[h] ?? {}, h);
			for (const [g, hosts] of Object.entries(ours.groups)) assert.deepEqual(hosts, [...(out[g]?.hosts ?? [])].sort(), g);
		});
	}
});

describe('host patterns and shards', () => {
	const inv = I.parseIniInventory(`gw
[north]
n[1:3]
[south]
s[1:3]
[core]
n1
s1
[fleet:children]
north
south
`, 't.ini');
	const sel = (p, files) => P.selectHosts(inv, p, files);
	it('names, groups, all, globs, regexes; union with "," or ":"', () => {
		assert.deepEqual(sel('all'), ['gw', 'n1', 'n2', 'n3', 's1', 's2', 's3']);
		assert.deepEqual(sel('*'), sel('all'));
		assert.deepEqual(sel('north'), ['n1', 'n2', 'n3']);
		assert.deepEqual(sel('fleet'), ['n1', 'n2', 'n3', 's1', 's2', 's3']);
		assert.deepEqual(sel('s2,gw'), ['gw', 's2']);
		assert.deepEqual(sel('s2:gw'), ['gw', 's2']);
		assert.deepEqual(sel('n*'), ['n1', 'n2', 'n3']);
		assert.deepEqual(sel('~^[ns][23]$'), ['n2', 'n3', 's2', 's3']);
	});
	it('glob sets as fnmatch reads them: [1-5], [!x], a ] first, a [ left open', () => {
		const many = I.parseIniInventory('[f]\nf[001:012]\nx]y\nx[y\n', 'f.ini');
		const m = (p) => P.selectHosts(many, p);
		assert.deepEqual(m('f00[1-5]'), ['f001', 'f002', 'f003', 'f004', 'f005']);
		assert.deepEqual(m('f0[01][!0-8]'), ['f009']);
		assert.deepEqual(m('f01[0-2]'), ['f010', 'f011', 'f012']);
		assert.throws(() => m('f01[02]'), /'f01' \(subscripted by '\[02\]', positions as in Ansible\) matches no host or group of the inventory; for characters, write a range/);
		assert.deepEqual(m('x[]]y'), ['x]y']);
		assert.deepEqual(m('x[y'), ['x[y']);
		assert.deepEqual(m('f00[.-5]'), ['f001', 'f002', 'f003', 'f004', 'f005']);
		assert.throws(() => m('f00[5-1]'), /'f00\[5-1\]': not a glob/);
		assert.throws(() => m('f00[a-c]'), /'f00\[a-c\]' matches no host/);
	});
	it('subscripts as in Ansible: TERM[N], TERM[N:M] inclusive, TERM[N:], negative from the end', () => {
		assert.deepEqual(sel('fleet[0]'), ['n1']);
		assert.deepEqual(sel('fleet[1:3]'), ['n2', 'n3', 's1']);
		assert.deepEqual(sel('fleet[4:]'), ['s2', 's3']);
		assert.deepEqual(sel('fleet[-1]'), ['s3']);
		assert.deepEqual(sel('fleet[-2:]'), ['s2', 's3']);
		assert.deepEqual(sel('n*[1]'), ['n2']);
		assert.deepEqual(sel('fleet:!fleet[1:4]'), ['n1', 's3']);
		assert.throws(() => sel('fleet[9]'), /'fleet\[9\]' matches no host/);
		assert.throws(() => sel('nroth[0]'), /'nroth' \(subscripted by '\[0\]', positions as in Ansible\) matches no host/);
	});
	it("'&' keeps the hosts also in a group, '!' removes, whatever the order", () => {
		assert.deepEqual(sel('fleet:&core'), ['n1', 's1']);
		assert.deepEqual(sel('fleet:!core'), ['n2', 'n3', 's2', 's3']);
		assert.deepEqual(sel('!core:fleet'), ['n2', 'n3', 's2', 's3']);
		assert.deepEqual(sel('!north'), ['gw', 's1', 's2', 's3']);
	});
	it('@retry-file lists host names; unknown names in it are skipped', () => {
		const f = file('s3\n# comment\nn1\nnot-in-inventory\n', 'retry');
		assert.deepEqual(sel(`@${f}`, { readFile: (p) => execFileSync('cat', [p], { encoding: 'utf8' }) }), ['n1', 's3']);
		assert.throws(() => sel(`@${f}`), /retry files are not allowed here/);
	});
	it('a term that matches nothing is an error (a typo must not widen or empty an apply)', () => {
		assert.throws(() => sel('nroth'), /'nroth' matches no host or group/);
		assert.throws(() => sel('fleet:!nroth'), /'nroth' matches no host or group/);
		assert.throws(() => sel('~[('), /not a regular expression/);
	});
	it('--shard: parts of a 1,000-host inventory are disjoint, cover it, and do not depend on its order', () => {
		const big = I.parseIniInventory('[edge]\nedge-[0000:0999]\n', 'big.ini');
		const rev = I.parseIniInventory(`[edge]\n${[...big.hosts].reverse().join('\n')}\n`, 'rev.ini');
		for (const count of [1, 2, 7, 64]) {
			const seen = new Map();
			for (let index = 0; index < count; index++) {
				const part = P.inShard(big.hosts, { index, count });
				assert.deepEqual([...P.inShard(rev.hosts, { index, count })].sort(), [...part].sort());
				for (const h of part) {
					assert.equal(seen.has(h), false, `${h} in two shards`);
					seen.set(h, index);
				}
			}
			assert.equal(seen.size, 1000, `shards of ${count} cover every host`);
		}
		const sizes = Array.from({ length: 8 }, (_, index) => P.inShard(big.hosts, { index, count: 8 }).length);
		assert.ok(Math.min(...sizes) > 80 && Math.max(...sizes) < 170, `balanced: ${sizes}`);
		for (const bad of ['8/8', '1/0', 'a/b', '-1/4', '3']) assert.throws(() => P.parseShard(bad), /expected I\/N/);
	});
});

describe('nfluactl inventory', () => {
	const f = file(`[north]
n[1:3] ansible_user=ops
[south]
s1 ansible_host=192.0.2.9 ansible_port=2200 ansible_ssh_common_args='-o ProxyJump=bh'
`);
	it('a table of the selected hosts, as they will be reached', async () => {
		const r = await runCli(['inventory', '-i', f, '--limit', 'n1:south']);
		assert.equal(r.code, 0, r.stderr);
		const me = userInfo().username;
		assert.equal(r.stdout, `NAME  HOST       PORT  USER${' '.repeat(Math.max(me.length, 3) - 4 + 2)}JUMP  GROUPS
n1    n1         22    ops${' '.repeat(Math.max(me.length, 3) - 3 + 2)}-     north
s1    192.0.2.9  2200  ${me}${' '.repeat(Math.max(me.length, 3) - me.length + 2)}bh    south
# 2 of 4 hosts selected
`);
	});
	it('--json: hosts with groups, variables and connection; -i before the command is still the key', async () => {
		const r = await runCli(['--json', 'inventory', '-i', f, '--shard', '0/1']);
		assert.equal(r.code, 0, r.stderr);
		const j = JSON.parse(r.stdout);
		assert.equal(j.selected, 4);
		assert.equal(j.total, 4);
		assert.deepEqual(j.hosts[3], {
			name: 's1', groups: ['south', 'all'], ignored: [],
			vars: { ansible_host: '192.0.2.9', ansible_port: 2200, ansible_ssh_common_args: '-o ProxyJump=bh' },
			connection: { host: '192.0.2.9', port: 2200, user: userInfo().username, identity: null, jump: 'bh' },
		});
		const k = await runCli(['-i', '/some/key', 'inventory', '-i', f, '--json']);
		assert.equal(k.code, 0, k.stderr);
	});
	it('usage errors exit 2 with the reason', async () => {
		const r = await runCli(['inventory']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /-i FILE/);
		const m = await runCli(['inventory', '-i', join(scratch, 'missing.ini')]);
		assert.equal(m.code, 2);
		assert.match(m.stderr, /cannot read '.*missing\.ini': ENOENT/);
		const l = await runCli(['inventory', '-i', f, '--limit', 'nowhere']);
		assert.equal(l.code, 2);
		assert.match(l.stderr, /'nowhere' matches no host or group/);
	});
});
