#!/usr/bin/env node
// prepare.mjs OUTDIR [FUZZ_N]: the inputs of the kernel's differential test
// (test/vm/cases/p95-policies.sh), made with the simulator of `nfluactl simulate` (build/cli, the
// same core functions) so that the guest only replays and compares.
//
// OUTDIR/policies.txt    "POLICY" per line (policies/POLICY.lua, its .conf.lua, POLICY_match)
// OUTDIR/captures.txt    "NAME FRAMES REPLAYED" per capture (the fixtures, then fuzz-POLICY)
// OUTDIR/replay.pcap     the captures' frames, one after the other, that the kernel's ip_rcv /
//                        ipv6_rcv pass to netfilter: Ethernet, all to MAC 02:00:00:00:99:99 (the
//                        receiving veth's), VLAN tags removed, other link types given a header
// OUTDIR/expect.txt      per packet given to Lua, in order: "NAME #pkt RESULT..." with one
//                        result per policy (true, false, error): the simulator's, on replay.pcap
// OUTDIR/summary.txt     what was left out of each capture and why
//
// A fixture frame that could not reach the rule (not IP, a header ip_rcv drops) is listed in
// summary.txt and left out; fuzz packets get valid lengths and IPv4 header checksums first (the
// mutator truncates and changes headers) and are then judged the same way. The fuzz packets come
// from the mutator of the simulator's own fuzz test (test/lib/fuzz.mjs), seeded per policy.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutations, rng } from '../../lib/fuzz.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const core = (m) => import(join(ROOT, 'build', 'cli', 'core', m));
const { simulate } = await core('simulate.js');
const { parseCapture, networkPacket } = await core('pcap.js');
const { analyse } = await core('packet.js');

const OUT = process.argv[2];
if (!OUT) throw new Error('usage: prepare.mjs OUTDIR [FUZZ_N]');
const FUZZ_N = Number(process.argv[3] ?? process.env.NFLUA_KFUZZ_N ?? 1000);
const FUZZ_SEED = Number(process.env.NFLUA_FUZZ_SEED ?? 6) + 1000; // not the simulator test's packets
const POL = process.env.NFLUA_POLICIES ?? join(ROOT, 'policies');
const FIX = join(POL, 'fixtures');
const POLICIES = ['http_ua', 'http_host', 'tls_sni', 'dns_qname', 'bittorrent'];
const FUZZ_FROM = { http_ua: 'http', http_host: 'http', tls_sni: 'tls', dns_qname: 'dns', bittorrent: 'bittorrent' };
const DST_MAC = [0x02, 0, 0, 0, 0x99, 0x99];
const SRC_MAC = [0x02, 0, 0, 0, 0x99, 0x01];

const u16 = (b, o) => (b[o] << 8) | b[o + 1];
function ipv4Sum(b, hl) {
	let s = 0;
	for (let o = 0; o < hl; o += 2) s += o === 10 ? 0 : u16(b, o);
	while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
	return ~s & 0xffff;
}
const isMcast = (b, o) => b[o] === 0xff;
const isLoop = (b, o) => b.subarray(o, o + 15).every((x) => x === 0) && b[o + 15] === 1;
const isV4mapped = (b, o) => b.subarray(o, o + 10).every((x) => x === 0) && b[o + 10] === 0xff && b[o + 11] === 0xff;

/** why ip_rcv_core / ipv6_rcv_core (before PREROUTING) would drop this IP packet, or null */
function kernelDrops(family, b) {
	if (family === 4) {
		if (b.length < 20 || b[0] >> 4 !== 4 || (b[0] & 15) < 5) return 'bad IPv4 version or header length';
		const hl = (b[0] & 15) * 4;
		if (hl > b.length) return 'IPv4 header longer than the packet';
		if (ipv4Sum(b, hl) !== u16(b, 10)) return 'bad IPv4 header checksum';
		const tot = u16(b, 2);
		if (tot < hl || tot > b.length) return 'bad IPv4 total length';
		return null;
	}
	if (b.length < 40 || b[0] >> 4 !== 6) return 'bad IPv6 version or short header';
	if (isMcast(b, 8)) return 'multicast IPv6 source';
	if (isLoop(b, 8) || isLoop(b, 24)) return 'loopback IPv6 address on a veth';
	if (isMcast(b, 24) && ((b[25] & 15) <= 1)) return 'IPv6 multicast destination of scope 0 or 1';
	if (isV4mapped(b, 8)) return 'v4-mapped IPv6 source';
	if (b[6] === 0) return 'hop-by-hop options (parsed before PREROUTING)';
	const plen = u16(b, 4);
	if (40 + plen > b.length) return 'IPv6 payload length past the packet';
	return null;
}

/** make the lengths (and the IPv4 header checksum) those of the bytes we have */
function fixLengths(family, b) {
	b = Uint8Array.from(b);
	if (family === 4 && b.length >= 20 && (b[0] & 15) >= 5 && (b[0] & 15) * 4 <= b.length) {
		b[2] = b.length >> 8;
		b[3] = b.length & 255;
		const s = ipv4Sum(b, (b[0] & 15) * 4);
		b[10] = s >> 8;
		b[11] = s & 255;
	} else if (family === 6 && b.length >= 40) {
		b[4] = (b.length - 40) >> 8;
		b[5] = (b.length - 40) & 255;
	}
	return b;
}

function ether(family, ip) {
	return Uint8Array.from([...DST_MAC, ...SRC_MAC, family === 4 ? 0x08 : 0x86, family === 4 ? 0x00 : 0xdd, ...ip]);
}

function pcapOf(frames) {
	const parts = [];
	const h = Buffer.alloc(24);
	h.writeUInt32LE(0xa1b2c3d4, 0);
	h.writeUInt16LE(2, 4);
	h.writeUInt16LE(4, 6);
	h.writeUInt32LE(65535, 16);
	h.writeUInt32LE(1, 20);
	parts.push(h);
	frames.forEach((f, i) => {
		const r = Buffer.alloc(16);
		r.writeUInt32LE(1700000000, 0);
		r.writeUInt32LE(i, 4);
		r.writeUInt32LE(f.length, 8);
		r.writeUInt32LE(f.length, 12);
		parts.push(r, Buffer.from(f));
	});
	return Buffer.concat(parts);
}

const chunk = (name) => ({ name, code: readFileSync(join(POL, name)) });
function simulateAll(capture, policy) {
	return simulate(capture, chunk(`${policy}.lua`), [chunk(`${policy}.conf.lua`)], { fn: `${policy}_match`, mode: 'match', tcpPayload: false, stateName: policy, budget: 100000 });
}
// the probe records "error" for an error (a budget hit is one) and tostring() of other results
const RESULT = { match: 'true', 'no-match': 'false', budget: 'error', 'bad-result': 'error' };
/** the lines the guest's probe must produce: packets given to Lua, in order */
const expectLines = (sim) => sim.packets.filter((r) => r.result !== 'skipped' && r.result !== 'not-called').map((r) => ({ index: r.index, len: r.len, result: RESULT[r.result] ?? r.result }));

mkdirSync(OUT, { recursive: true });
const summary = [];
const captures = []; // { name, frames, out: Ethernet frames }

// fixtures: each frame's IP packet, re-framed
for (const file of readdirSync(FIX).filter((f) => f.endsWith('.pcap')).sort()) {
	const name = basename(file, '.pcap');
	const orig = readFileSync(join(FIX, file));
	const frames = parseCapture(orig);
	const out = [];
	const left = [];
	for (const f of frames) {
		const np = networkPacket(f.linktype, f.data);
		const why = !np.ok ? np.why : kernelDrops(np.family, np.ip);
		if (why !== null) left.push(`frame ${f.index}: ${why}`);
		else out.push(ether(np.family, np.ip));
	}
	captures.push({ name, frames: frames.length, out });
	summary.push(`${name}: ${frames.length} frames, ${out.length} replayed${left.length ? `; left out: ${left.join(', ')}` : ''}`);
	// the re-framed capture must mean the same to the simulator as the fixture itself
	for (const p of POLICIES) {
		if (left.length === 0 && expectLines(simulateAll(orig, p)).join('') !== expectLines(simulateAll(pcapOf(out), p)).join('')) {
			throw new Error(`${p} on ${file}: the replay capture simulates differently from the fixture`);
		}
	}
}

// fuzz: FUZZ_N mutated packets per policy that reach the rule and are given to Lua
for (const p of POLICIES) {
	const fix = FUZZ_FROM[p];
	const seeds = parseCapture(readFileSync(join(FIX, `${fix}.pcap`))).map((f) => networkPacket(f.linktype, f.data)).filter((n) => n.ok)
		.map((n) => ({ n, v: analyse(n.ip, n.family) })).filter(({ v }) => v && v.l4ok && v.payoff < v.len);
	const gen = mutations(seeds, rng(FUZZ_SEED * 7919 + p.length));
	const out = [];
	const dropped = {};
	let made = 0;
	while (out.length < FUZZ_N && made < FUZZ_N * 3) {
		made++;
		const { family, out: raw } = gen.next().value;
		const ip = fixLengths(family, raw);
		const why = kernelDrops(family, ip) ?? (analyse(ip, family) === undefined ? 'the kernel cannot read its IP header' : null);
		if (why !== null) dropped[why] = (dropped[why] ?? 0) + 1;
		else out.push(ether(family, ip));
	}
	captures.push({ name: `fuzz-${p}`, frames: made, out });
	summary.push(`fuzz-${p}: ${made} mutations of ${fix}.pcap, ${out.length} replayed; left out: ${Object.entries(dropped).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`);
}

// one replay: every capture, in order; the simulator runs each policy over all of it
const replay = pcapOf(captures.flatMap((c) => c.out));
const owner = captures.flatMap((c) => c.out.map(() => c.name));
const perPolicy = POLICIES.map((p) => expectLines(simulateAll(replay, p)));
const lines = perPolicy[0].map((first, i) => {
	for (const q of perPolicy) if (q[i].index !== first.index) throw new Error('policies disagree on which packets reach Lua');
	return `${owner[first.index - 1]} ${first.len} ${perPolicy.map((q) => q[i].result).join(' ')}\n`;
});
writeFileSync(join(OUT, 'replay.pcap'), replay);
writeFileSync(join(OUT, 'expect.txt'), lines.join(''));
writeFileSync(join(OUT, 'policies.txt'), POLICIES.map((p) => `${p}\n`).join(''));
writeFileSync(join(OUT, 'captures.txt'), captures.map((c) => `${c.name} ${c.frames} ${c.out.length}\n`).join(''));
writeFileSync(join(OUT, 'summary.txt'), summary.map((l) => `${l}\n`).join(''));
process.stdout.write(summary.map((l) => `prepare: ${l}\n`).join(''));
