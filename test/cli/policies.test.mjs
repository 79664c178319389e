// policies/ on the fixture captures (policies/fixtures, made by make-fixtures.sh with real
// clients): expected verdicts per request, in the order the fixture script sends them; the
// capture formats and link types; the packet object; and a fuzz of every policy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, mod } from './helpers/build.mjs';
import { runCli } from './helpers/fake.mjs';
import { mutations, rng } from '../lib/fuzz.mjs';

const { simulate, loadState } = await mod('core/simulate.js');
const { parseCapture, networkPacket } = await mod('core/pcap.js');
const { analyse } = await mod('core/packet.js');

const POL = join(ROOT, 'policies');
const FIX = process.env.NFLUA_FIXTURES ?? join(POL, 'fixtures'); // a fresh make-fixtures.sh OUTDIR to test
const chunk = (name) => ({ name, code: readFileSync(join(POL, name)) });
const capture = (name) => readFileSync(join(FIX, name));
const enc = new TextEncoder();
const latin1 = (b) => Buffer.from(b).toString('latin1');

function run(policy, pcap, opts = {}, extra = []) {
	return simulate(capture(pcap), chunk(`${policy}.lua`), [chunk(`${policy}.conf.lua`), ...extra], {
		fn: `${policy}_match`, mode: 'match', tcpPayload: false, stateName: 'test', budget: 100000, ...opts,
	});
}

// the transport payload of every frame (same order as the simulator's records)
function payloads(pcap) {
	return parseCapture(capture(pcap)).map((f) => {
		const np = networkPacket(f.linktype, f.data);
		const v = np.ok ? analyse(np.ip, np.family) : undefined;
		return v && v.l4ok ? v.bytes.subarray(v.payoff) : new Uint8Array();
	});
}

// [index, payload] of the frames that FILTER picks, in order
function pick(pcap, filter) {
	return payloads(pcap).map((p, i) => [i, p]).filter(([, p]) => filter(p));
}

function expectOrder(sim, picked, expected) {
	assert.equal(picked.length, expected.length, `requests in the capture: ${picked.length}`);
	picked.forEach(([i, p], k) => {
		const [needle, want] = expected[k];
		if (needle !== null) assert.ok(latin1(p).toLowerCase().includes(needle.toLowerCase()), `request ${k + 1} should carry ${needle}`);
		assert.equal(sim.packets[i].matched, want, `request ${k + 1} (${needle}): packet ${i + 1}`);
	});
	const chosen = new Set(picked.map(([i]) => i));
	sim.packets.forEach((r, i) => {
		if (!chosen.has(i)) assert.notEqual(r.matched, true, `packet ${i + 1} is not a request and must not match`);
	});
	assert.equal(sim.summary.errors, 0);
	assert.equal(sim.summary.badResults, 0);
}

const isGet = (p) => latin1(p.subarray(0, 4)) === 'GET ';
const isClientHello = (p) => p[0] === 22 && p[5] === 1;

describe('policies on the fixture captures', () => {
	it('http_ua: curl, sqlmap, zgrab blocked; Firefox, Wget and the Host requests pass', () => {
		const sim = run('http_ua', 'http.pcap');
		expectOrder(sim, pick('http.pcap', isGet), [
			['curl/7.88.1', true], ['Firefox/115.0', false], ['sqlmap/1.7.2', true], ['zgrab/0.x', true], ['Wget/', false],
			['Host: blocked.test', false], ['Host: WWW.Ads.Test', false], ['Host: ads.test', false], ['Host: notblocked.test', false],
		]);
	});
	it('http_host: blocked.test and *.ads.test (any case, with a port); not ads.test or notblocked.test', () => {
		const sim = run('http_host', 'http.pcap');
		expectOrder(sim, pick('http.pcap', isGet), [
			['curl/7.88.1', false], ['Firefox', false], ['sqlmap', false], ['zgrab', false], ['Wget/', false],
			['Host: blocked.test', true], ['Host: WWW.Ads.Test:80', true], ['Host: ads.test\r', false], ['Host: notblocked.test', false],
		]);
	});
	it('tls_sni: ClientHellos of TLS 1.2 and 1.3, IPv4 and IPv6 (Linux cooked v2 capture)', () => {
		const frames = parseCapture(capture('tls.pcap'));
		assert.equal(frames[0].linktype, 276);
		const sim = run('tls_sni', 'tls.pcap');
		expectOrder(sim, pick('tls.pcap', isClientHello), [
			['blocked.test', true], ['www.ads.test', true], ['ok.test', false], ['Blocked.Test', true],
			['ads.test', false], ['deep.sub.ads.test', true], ['notblocked.test', false], [null, false],
		]);
		assert.deepEqual(new Set(sim.packets.filter((r) => r.matched).map((r) => r.family)), new Set([4, 6]));
	});
	it('tls_sni_verdict as a target: "reset" exactly where the match matches', () => {
		const m = run('tls_sni', 'tls.pcap');
		const t = run('tls_sni', 'tls.pcap', { fn: 'tls_sni_verdict', mode: 'target' });
		assert.deepEqual(t.packets.map((r) => r.verdict), m.packets.map((r) => (r.matched ? 'reset' : 'continue')));
		assert.equal(t.summary.verdicts.reset, 4);
	});
	it('dns_qname: UDP over IPv4 and IPv6, and TCP; case-insensitive; responses never match', () => {
		const sim = run('dns_qname', 'dns.pcap');
		// queries: to port 53 with QR = 0 (TCP: after the 2-byte length)
		const queries = pick('dns.pcap', (p) => p.length > 12).filter(([i, p]) => {
			const r = sim.packets[i];
			return r.dport === 53 && (p[r.protocol === 6 ? 4 : 2] & 0x80) === 0;
		});
		expectOrder(sim, queries, [
			['\x07blocked\x04test', true], ['\x03www\x03ads\x04test', true], ['\x02ok\x04test', false], ['\x07BLOCKED\x04Test', true],
			['\x03ads\x04test', false], ['\x04deep\x03sub\x03ads\x04test', true], ['\x0anotblocked\x04test', false], ['\x07blocked\x04test', true],
		]);
	});
	it('bittorrent: the DHT query, the HTTP tracker announce and the plain handshake; not the MSE attempt', () => {
		const sim = run('bittorrent', 'bittorrent.pcap');
		const hits = sim.packets.filter((r) => r.matched);
		const p = payloads('bittorrent.pcap');
		assert.deepEqual(hits.map((r) => r.protocol), [17, 6, 6]);
		assert.match(latin1(p[hits[0].index - 1]), /^d1:a/);
		assert.match(latin1(p[hits[1].index - 1]), /^GET \/announce\?info_hash=/);
		assert.equal(latin1(p[hits[2].index - 1].subarray(0, 20)), '\x13BitTorrent protocol');
		// aria2 tried an encrypted handshake first: payload to the peer that does not match
		assert.ok(sim.packets.some((r, i) => r.dport === 6881 && r.protocol === 6 && p[i].length > 0 && !r.matched));
		const off = run('bittorrent', 'bittorrent.pcap', {}, [{ name: 'off.lua', code: enc.encode('bittorrent.configure{ dht = false, tracker = false }') }]);
		assert.equal(off.summary.matched, 1);
	});
	it('--tcp-payload gives Lua only TCP packets with payload', () => {
		const sim = run('http_ua', 'http.pcap', { tcpPayload: true });
		assert.equal(sim.summary.called, pick('http.pcap', (x) => x.length > 0).length);
		assert.equal(sim.summary.matched, 3);
	});
});

// ---- capture formats: the same packets as pcapng, SLL, raw IP, nanosecond pcap, big-endian
function pcapOf(frames, linktype, { nano = false, be = false } = {}) {
	const parts = [];
	const h = Buffer.alloc(24);
	const w32 = (b, v, o) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
	w32(h, nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
	(be ? h.writeUInt16BE.bind(h) : h.writeUInt16LE.bind(h))(2, 4);
	(be ? h.writeUInt16BE.bind(h) : h.writeUInt16LE.bind(h))(4, 6);
	w32(h, 262144, 16);
	w32(h, linktype, 20);
	parts.push(h);
	for (const f of frames) {
		const r = Buffer.alloc(16);
		w32(r, Math.floor(f.time), 0);
		w32(r, Math.round((f.time % 1) * (nano ? 1e9 : 1e6)), 4);
		w32(r, f.data.length, 8);
		w32(r, f.data.length, 12);
		parts.push(r, Buffer.from(f.data));
	}
	return Buffer.concat(parts);
}
function pcapngOf(frames, linktype) {
	const block = (type, body) => {
		const pad = (4 - (body.length % 4)) % 4;
		const len = 12 + body.length + pad;
		const b = Buffer.alloc(len);
		b.writeUInt32LE(type, 0);
		b.writeUInt32LE(len, 4);
		body.copy(b, 8);
		b.writeUInt32LE(len, len - 4);
		return b;
	};
	const shb = Buffer.alloc(16);
	shb.writeUInt32LE(0x1a2b3c4d, 0);
	shb.writeUInt16LE(1, 4);
	shb.writeBigInt64LE(-1n, 8);
	const idb = Buffer.alloc(16);
	idb.writeUInt16LE(linktype, 0);
	idb.writeUInt32LE(262144, 4);
	idb.writeUInt16LE(9, 8); // if_tsresol: nanoseconds
	idb.writeUInt16LE(1, 10);
	idb[12] = 9;
	const out = [block(0x0a0d0d0a, shb), block(1, idb)];
	for (const f of frames) {
		const ts = BigInt(Math.round(f.time * 1e6)) * 1000n;
		const b = Buffer.alloc(20 + f.data.length);
		b.writeUInt32LE(0, 0);
		b.writeUInt32LE(Number(ts >> 32n), 4);
		b.writeUInt32LE(Number(ts & 0xffffffffn), 8);
		b.writeUInt32LE(f.data.length, 12);
		b.writeUInt32LE(f.data.length, 16);
		Buffer.from(f.data).copy(b, 20);
		out.push(block(6, b));
	}
	return Buffer.concat(out);
}
const sll = (d) => Buffer.concat([Buffer.from([0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0x99, 1, 0, 0]), Buffer.from(d.subarray(12, 14)), Buffer.from(d.subarray(14))]);

describe('capture formats and link types', () => {
	const eth = parseCapture(capture('http.pcap'));
	const sim = (bytes) => simulate(bytes, chunk('http_ua.lua'), [chunk('http_ua.conf.lua')], { fn: 'http_ua_match', mode: 'match', tcpPayload: false, stateName: 't', budget: 100000 });
	const want = sim(capture('http.pcap')).packets.map((r) => r.result);
	it('Ethernet pcap == pcapng == SLL == raw IP == nanosecond and big-endian pcap', () => {
		for (const [what, bytes] of [
			['pcapng', pcapngOf(eth, 1)],
			['SLL', pcapOf(eth.map((f) => ({ ...f, data: sll(f.data) })), 113)],
			['raw', pcapOf(eth.map((f) => ({ ...f, data: f.data.subarray(14) })), 101)],
			['nano big-endian', pcapOf(eth, 1, { nano: true, be: true })],
		]) {
			const s = sim(bytes);
			assert.deepEqual(s.packets.map((r) => r.result), want, what);
			assert.ok(Math.abs(s.packets[3].time - eth[3].time) < 1e-5, `${what} time`);
		}
	});
	it('VLAN tags are skipped; non-IP frames are reported as skipped', () => {
		const tagged = eth.map((f) => ({ ...f, data: Buffer.concat([Buffer.from(f.data.subarray(0, 12)), Buffer.from([0x81, 0, 0, 7]), Buffer.from(f.data.subarray(12))]) }));
		assert.deepEqual(sim(pcapOf(tagged, 1)).packets.map((r) => r.result), want);
		const arp = { time: 1, data: Buffer.concat([Buffer.alloc(12), Buffer.from([8, 6]), Buffer.alloc(28)]) };
		const s = sim(pcapOf([arp], 1));
		assert.equal(s.packets[0].result, 'skipped');
		assert.match(s.packets[0].reason, /ethertype 0x0806/);
	});
	it('a truncated or foreign file is an error, not a crash', () => {
		assert.throws(() => parseCapture(capture('http.pcap').subarray(0, 100)), /past the end|ends inside/);
		assert.throws(() => parseCapture(Buffer.from('hello world, not a capture')), /not a pcap/);
	});
});

// ---- the packet object against hand-made packets (packet.c's offsets and errors)
function ipv4(proto, l4, { ihl = 5, frag = 0 } = {}) {
	const h = Buffer.alloc(ihl * 4);
	h[0] = 0x40 | ihl;
	h.writeUInt16BE(ihl * 4 + l4.length, 2);
	h.writeUInt16BE(frag, 6);
	h[8] = 64;
	h[9] = proto;
	h.set([192, 0, 2, 1], 12);
	h.set([198, 51, 100, 7], 16);
	return Buffer.concat([h, l4]);
}
function tcp(sport, dport, payload) {
	const t = Buffer.alloc(20);
	t.writeUInt16BE(sport, 0);
	t.writeUInt16BE(dport, 2);
	t[12] = 0x50;
	t[13] = 0x18;
	return Buffer.concat([t, Buffer.from(payload)]);
}
function ipv6(next, ext, l4) {
	const h = Buffer.alloc(40);
	h[0] = 0x60;
	h.writeUInt16BE(ext.length + l4.length, 4);
	h[6] = next;
	h.set(Buffer.from('20010db8000000000000000000000001', 'hex'), 8);
	h.set(Buffer.from('20010db80000000000000000000000ff', 'hex'), 24);
	return Buffer.concat([h, ext, l4]);
}

describe('the simulated packet object', () => {
	const probe = `
function fields(p)
	return table.concat({ p.family, p.protocol, p.src, p.dst, tostring(p.sport), tostring(p.dport),
		p.l4off, p.payloadoff, p.payloadlen, #p, p:payload(), p:payload(2, 3), p:payload(-2),
		select("#", p:unpack(">I2I2", p.l4off + 1)), (p:unpack(">I2", p.l4off + 1)),
		select(2, p:unpack(">I2", p.l4off + 1)), tostring(p.nosuchfield) }, "|")
end
function errs(p)
	local out = {}
	for _, f in ipairs({ function() return p:unpack("I4", #p) end, function() return p:unpack("z") end,
		function() return p:unpack("I1", 0) end, function() return p.bytes(nil) end }) do
		local ok, e = pcall(f)
		out[#out + 1] = tostring(e)
	end
	return table.concat(out, "|")
end
function keep(p) kept = p return "continue" end
`;
	const state = () => loadState({ name: 'probe.lua', code: enc.encode(probe) }, [], 'probe', 100000, { prints: [], sent: [] }).sim;
	const call = (s, fn, bytes, family) => s.call(fn, analyse(bytes, family), true);
	it('IPv4 TCP: fields, payload, unpack positions (1-based, from the IP header)', () => {
		const r = call(state(), 'fields', ipv4(6, tcp(40000, 80, 'HELLO')), 4);
		assert.equal(r.ok, false); // a string is a bad result for a target: its text is in the message
		assert.equal(r.message, 'returned string 4|6|192.0.2.1|198.51.100.7|40000|80|20|40|5|45|HELLO|EL|LO|3|40000|23|nil, not a verdict');
	});
	it('IPv4 options, later fragments, IPv6 extension headers and fragments', () => {
		const s = state();
		assert.match(call(s, 'fields', ipv4(6, tcp(1, 2, 'x'), { ihl: 6 }), 4).message, /^returned string 4\|6\|[^|]+\|[^|]+\|1\|2\|24\|44\|1\|45\|/);
		assert.match(call(s, 'fields', ipv4(6, tcp(1, 2, 'x'), { frag: 185 }), 4).message, /^returned string 4\|0\|[^|]+\|[^|]+\|nil\|nil\|20\|20\|0\|41\|\|/);
		const hop = Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]);
		assert.match(call(s, 'fields', ipv6(0, hop, tcp(5, 443, 'abc')), 6).message, /^returned string 6\|6\|2001:db8::1\|2001:db8::ff\|5\|443\|48\|68\|3\|71\|abc\|/);
		const frag = Buffer.from([17, 0, 0, 8, 0, 0, 0, 1]); // offset 1 (8 bytes): a later fragment
		assert.match(call(s, 'fields', ipv6(44, frag, Buffer.alloc(12)), 6).message, /^returned string 6\|0\|[^|]+\|[^|]+\|nil\|nil\|0\|0\|0\|60\|/);
	});
	it("addresses as the kernel's %pI4 and %pI6c print them", async () => {
		const { ipv6Text } = await mod('core/packet.js');
		const t = (x) => ipv6Text(Uint8Array.from(Buffer.from(x, 'hex')));
		assert.equal(t('20010db8000000000000000000000001'), '2001:db8::1');
		assert.equal(t('20010db8000000010000000000000001'), '2001:db8:0:1::1');
		assert.equal(t('20010000000000010000000000000000'), '2001:0:0:1::'); // the longer run
		assert.equal(t('20010db8000000000001000000000001'), '2001:db8::1:0:0:1'); // the first of equal runs
		assert.equal(t('20010db8000100000001000000010001'), '2001:db8:1:0:1:0:1:1'); // a single 0 stays
		assert.equal(t('00000000000000000000000000000000'), '::');
		assert.equal(t('00000000000000000000ffffc0000201'), '::ffff:192.0.2.1');
		assert.equal(t('fe8000000000000000005efec0000201'), 'fe80::5efe:192.0.2.1');
	});
	it('errors as the kernel words them; no packet outside its call', () => {
		const s = state();
		const r = call(s, 'errs', ipv4(17, Buffer.alloc(8)), 4);
		assert.match(r.message, /data too short: 4 bytes at position 28 of a 28-byte packet\|.*variable-length format.*\|.*initial position out of packet.*\|.*packet expected/);
		assert.equal(call(s, 'keep', ipv4(17, Buffer.alloc(8)), 4).verdict, 'continue');
		const after = s.run(enc.encode('return pcall(function() return kept.dport end)'), '=x');
		assert.deepEqual(after, { ok: true, values: ['false', 'x:1: packet used outside its call'] });
	});
	it('the kernel libraries: no io/os/math/string.dump, text-only load, no float formats, budget', () => {
		const s = state();
		const r = s.run(enc.encode(`local _, f = pcall(string.format, "%.1f", 1)
			local _, g = pcall(setmetatable, {}, { __gc = print })
			return io, os, math, string.dump, select(2, load("return 1", "x", "b")), f, g, nflua.state, 7 // 2`), '=x');
		assert.deepEqual(r.values, ['nil', 'nil', 'nil', 'nil', "mode 'b' refused: only text chunks can be loaded in the kernel",
			"invalid conversion '%.1f' to 'format' (no floating point in kernel Lua)", "'__gc' metamethods are not supported in the kernel", 'probe', '3']);
		// string.lower/upper as the kernel's ctype: Latin-1 letters too
		assert.deepEqual(s.run(enc.encode('return ("AZ\\xC0\\xD7\\xDE\\xDF"):lower():byte(1, -1)'), '=x').values, ['97', '122', '224', '215', '254', '223']);
		assert.deepEqual(s.run(enc.encode('return ("az\\xDF\\xE0\\xF7\\xFF"):upper():byte(1, -1)'), '=x').values, ['65', '90', '191', '192', '247', '223']);
		const spin = s.run(enc.encode('function spin(p) while true do end end'), '=spin.lua');
		assert.equal(spin.ok, true);
		const b = s.call('spin', analyse(ipv4(17, Buffer.alloc(8)), 4), false);
		assert.deepEqual(b, { ok: false, kind: 'budget', message: 'instruction budget exhausted (100000 instructions)' });
	});
});

// ---- fuzz: mutated and truncated fixture packets; no policy may raise a Lua error
const FUZZ_N = Number(process.env.NFLUA_FUZZ_N ?? 10000);
const FUZZ_SEED = Number(process.env.NFLUA_FUZZ_SEED ?? 6);

describe(`fuzz: ${FUZZ_N} mutated and truncated packets per policy, zero Lua errors (seed ${FUZZ_SEED})`, () => {
	const cases = [['http_ua', 'http.pcap'], ['http_host', 'http.pcap'], ['tls_sni', 'tls.pcap'], ['dns_qname', 'dns.pcap'], ['bittorrent', 'bittorrent.pcap']];
	for (const [policy, pcap] of cases) {
		it(policy, function () {
			this.timeout(60000);
			const rand = rng(FUZZ_SEED * 7919 + policy.length);
			const { sim } = loadState(chunk(`${policy}.lua`), [chunk(`${policy}.conf.lua`)], 'fuzz', 100000, { prints: [], sent: [] });
			// the packets with payload are the interesting seeds
			const seeds = parseCapture(capture(pcap)).map((f) => networkPacket(f.linktype, f.data)).filter((n) => n.ok)
				.map((n) => ({ n, v: analyse(n.ip, n.family) })).filter(({ v }) => v && v.l4ok && v.payoff < v.len);
			assert.ok(seeds.length > 0);
			let called = 0;
			let matched = 0;
			// FUZZ_N calls: mutations the kernel could not even read as IP are not counted
			const gen = mutations(seeds, rand);
			for (let k = 0; called < FUZZ_N && k < FUZZ_N * 2; k++) {
				const { family, out } = gen.next().value;
				const view = analyse(out, family);
				if (view === undefined) continue;
				called++;
				const r = sim.call(`${policy}_match`, view, false);
				assert.equal(r.ok, true, `mutation ${k}: ${r.message} (packet ${Buffer.from(out).toString('hex')})`);
				if (r.matched) matched++;
			}
			if (process.env.NFLUA_FUZZ_VERBOSE) console.log(`      ${policy}: ${called} calls, ${matched} matched, 0 errors`);
			assert.equal(called, FUZZ_N);
			if (FUZZ_N >= 1000) assert.ok(matched > 0, 'some mutations keep the blocked name and still match');
		});
	}
});

describe('nfluactl check and simulate (in-process)', function () {
	this.timeout(20000);
	it('check and simulate are commands, with their options in completion', async () => {
		const top = (await runCli(['--get-yargs-completions', ''])).stdout.split('\n');
		assert.ok(top.includes('check') && top.includes('simulate'), top.join(' '));
		const opts = (await runCli(['--get-yargs-completions', 'simulate', '--'])).stdout.split('\n');
		for (const o of ['--function', '--pcap', '--state-config', '--mode', '--tcp-payload', '--budget']) assert.ok(opts.includes(o), `${o} in ${opts.join(' ')}`);
	});
	it('the x64 single executable has fengari bundled: check and simulate run in it', function () {
		const sea = join(ROOT, 'dist', 'nfluactl-linux-x64');
		if (!existsSync(sea)) this.skip(); // scripts/test-cli.sh builds it before the tests
		const out = execFileSync(sea, ['simulate', join(POL, 'tls_sni.lua'), '--state-config', join(POL, 'tls_sni.conf.lua'),
			'--function', 'tls_sni_verdict', '--mode', 'target', '--pcap', join(FIX, 'tls.pcap')], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
		assert.match(out.trim().split('\n').pop(), /verdicts: \d+ continue, 4 reset; 0 errors/);
		execFileSync(sea, ['check', '--strict', join(POL, 'dns_qname.lua')]);
	});
	it('check accepts every file in policies/', async () => {
		const files = ['http_ua', 'http_host', 'tls_sni', 'dns_qname', 'bittorrent'].flatMap((p) => [join(POL, `${p}.lua`), join(POL, `${p}.conf.lua`)]);
		const r = await runCli(['check', '--strict', '--json', ...files]);
		assert.equal(r.code, 0, r.stdout + r.stderr);
		const j = JSON.parse(r.stdout);
		assert.equal(j.errors, 0);
		assert.equal(j.warnings, 0);
		assert.equal(j.files.length, files.length);
	});
	it('check flags each construct the kernel refuses or runs differently, with file:line:column', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'nflua-check-'));
		try {
			const sample = join(dir, 'sample.lua');
			writeFileSync(sample, [
				'local half = 1.5', // 1 float-literal
				'local e, h = 1e3, 0x1p4', // 2 float-literal x2
				'local q = 7 / 2', // 3 slash
				'local p = 2 ^ 10', // 4 pow
				'local f = io.open("x")', // 5 no-library
				'local t = os.time()', // 6 no-library
				'local m = math.floor(q)', // 7 no-library
				'local d = string.dump(print)', // 8 string-dump
				'local c = load("return 1", "c", "bt")', // 9 load-binary
				'local s = string.format("%d %5.2f", 1, 2)', // 10 format-float
				'local g = ("%g"):format(1)', // 11 format-float
				'local big = 4294967296', // 12 int32 (warning)
				'local k <const> = 1', // 13 attrib (warning)
				'local ok = { io = 1, math = 2 }; local z = ok.io // 2; local y = "1.5 / 2 ^ 3 %f"', // 14 nothing
				'-- 1.5 / io os math in a comment', // 15 nothing
			].join('\n'));
			const r = await runCli(['check', '--json', sample]);
			assert.equal(r.code, 1, r.stderr);
			assert.match(r.stderr, /^nfluactl: check: 12 errors and 2 warnings in 1 file/);
			const got = JSON.parse(r.stdout.split('\n')[0]).files[0].findings.map((x) => `${x.line}:${x.code}:${x.severity}`);
			assert.deepEqual(got, ['1:float-literal:error', '2:float-literal:error', '2:float-literal:error', '3:slash:error', '4:pow:error',
				'5:no-library:error', '6:no-library:error', '7:no-library:error', '8:string-dump:error', '9:load-binary:error',
				'10:format-float:error', '11:format-float:error', '12:int32:warning', '13:attrib:warning']);
			const human = await runCli(['check', sample]);
			assert.match(human.stdout, new RegExp(`^${sample.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:14: error: float literal 1\\.5`));
			// warnings alone: exit 0, or 1 with --strict; a syntax error is an error
			writeFileSync(sample, 'local big = 4294967296\n');
			assert.equal((await runCli(['check', sample])).code, 0);
			assert.equal((await runCli(['check', '--strict', sample])).code, 1);
			writeFileSync(sample, 'local x = = 1\n');
			const syn = await runCli(['check', sample]);
			assert.equal(syn.code, 1);
			assert.match(syn.stdout, /sample\.lua:1:0: error: unexpected symbol near '='/);
			assert.equal((await runCli(['check', join(dir, 'missing.lua')])).code, 2);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
	it('check never throws on mangled sources (1,000 mutated and truncated policies)', async () => {
		const { checkSource } = await mod('core/luacheck.js');
		const rand = rng(FUZZ_SEED);
		const srcs = ['http_ua', 'http_host', 'tls_sni', 'dns_qname', 'bittorrent'].map((p) => readFileSync(join(POL, `${p}.lua`)));
		const special = [34, 39, 91, 93, 92, 45, 46, 47, 48, 61, 120, 101, 10];
		for (let k = 0; k < 1000; k++) {
			const b = Uint8Array.from(srcs[k % srcs.length]);
			for (let m = 1 + Math.floor(rand() * 6); m > 0; m--) b[Math.floor(rand() * b.length)] = rand() < 0.8 ? special[Math.floor(rand() * special.length)] : Math.floor(rand() * 256);
			const src = rand() < 0.3 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
			for (const f of checkSource(src, 'm.lua')) assert.ok(f.line >= 0 && typeof f.message === 'string');
		}
	});
	it('simulate: one line per packet and a summary; --json; exit 1 when a packet raises an error', async () => {
		const args = ['simulate', join(POL, 'dns_qname.lua'), '--state-config', join(POL, 'dns_qname.conf.lua'), '--function', 'dns_qname_match', '--pcap', join(FIX, 'dns.pcap')];
		const r = await runCli(args);
		assert.equal(r.code, 0, r.stderr);
		const lines = r.stdout.trim().split('\n');
		assert.equal(lines.length, 25);
		assert.match(lines[0], /^ *1 +0\.000000 +10\.99\.0\.1:\d+ > 10\.99\.0\.2:53 UDP len \d+ +match$/);
		assert.match(lines[24], /^24 packets, 24 called: 5 matched, 19 not matched; 0 errors/);
		const j = JSON.parse((await runCli(['--json', ...args])).stdout);
		assert.equal(j.packets.length, 24);
		assert.deepEqual(Object.keys(j.summary).sort(), ['badResults', 'budgetHits', 'called', 'errors', 'matched', 'notCalled', 'notMatched', 'packets', 'skipped', 'verdicts']);
		assert.equal(j.packets[0].result, 'match');
		const bad = await runCli(['simulate', join(POL, 'dns_qname.lua'), '--function', 'nope', '--pcap', join(FIX, 'dns.pcap')]);
		assert.equal(bad.code, 1);
		assert.match(bad.stdout, /error: no function 'nope' in state 'sim'/);
		const usage = await runCli(['simulate', join(POL, 'dns_qname.lua'), '--function', 'x', '--pcap', join(POL, 'README.md')]);
		assert.equal(usage.code, 2);
	});
	it('simulate --cpu N: a per-CPU state\'s replica sees nflua.cpu (nil in a normal state)', async () => {
		const d = mkdtempSync(join(tmpdir(), 'sim-cpu-'));
		const f = join(d, 'cpu.lua');
		writeFileSync(f, 'function on_cpu1(pkt) return nflua.cpu == 1 end\nreturn tostring(nflua.cpu)\n');
		const args = ['--json', 'simulate', f, '--function', 'on_cpu1', '--pcap', join(FIX, 'dns.pcap')];
		const normal = JSON.parse((await runCli(args)).stdout);
		assert.deepEqual([normal.loaded[0].values, normal.summary.matched], [['nil'], 0]);
		const one = JSON.parse((await runCli([...args, '--cpu', '1'])).stdout);
		assert.deepEqual([one.loaded[0].values, one.summary.matched], [['1'], 24]);
		const zero = JSON.parse((await runCli([...args, '--cpu', '0'])).stdout);
		assert.deepEqual([zero.loaded[0].values, zero.summary.matched], [['0'], 0]);
		for (const bad of ['-1', '1.5', '9000']) {
			const r = await runCli([...args.slice(1), '--cpu', bad]);
			assert.equal(r.code, 2, bad);
			assert.match(r.stderr, /--cpu must be an integer from 0 to 8191/);
		}
	});
});
