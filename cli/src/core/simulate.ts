/**
 * `nfluactl simulate`: a script, its configuration chunks and a capture in, one record per
 * packet and a summary out. Pure (the command reads the files).
 */
import { analyse } from './packet.js';
import { networkPacket, parseCapture } from './pcap.js';
import { address, port } from './packet.js';
import { DEFAULT_BUDGET, LuaSim } from './luasim.js';

export interface Chunk {
	name: string;
	code: Uint8Array;
}

export interface SimulateOptions {
	fn: string;
	/** 'target': the function returns a verdict (-j LUA); 'match': true/false (-m lua) */
	mode: 'match' | 'target';
	/** the match's --tcp-payload: only TCP packets with payload are given to Lua */
	tcpPayload: boolean;
	stateName: string;
	budget: number;
	/** simulate the replica of this CPU of a per-CPU state (nflua.cpu); none: a normal state */
	cpu?: number | undefined;
}

export type PacketResult = 'match' | 'no-match' | 'continue' | 'accept' | 'drop' | 'reset' | 'error' | 'budget' | 'bad-result' | 'skipped' | 'not-called';

export interface PacketRecord {
	index: number;
	/** seconds since the epoch */
	time: number;
	family?: 4 | 6;
	src?: string;
	dst?: string;
	protocol?: number;
	sport?: number;
	dport?: number;
	/** bytes from the IP header on (#pkt) */
	len?: number;
	result: PacketResult;
	/** match mode: did the rule match (errors never match) */
	matched?: boolean;
	/** target mode: the verdict netfilter gets */
	verdict?: string;
	error?: string;
	/** why the packet was not given to Lua */
	reason?: string;
	/** print() lines and nflua.send() messages of this call */
	prints?: string[];
	sent?: string[];
	replies?: string[];
}

export interface SimulationSummary {
	packets: number;
	called: number;
	matched: number;
	notMatched: number;
	errors: number;
	budgetHits: number;
	badResults: number;
	skipped: number;
	notCalled: number;
	verdicts: Record<string, number>;
}

export interface Simulation {
	script: string;
	function: string;
	mode: 'match' | 'target';
	/** values returned by the script and configuration chunks, per chunk */
	loaded: { chunk: string; values: string[] }[];
	packets: PacketRecord[];
	summary: SimulationSummary;
}

export class ScriptLoadError extends Error {
	constructor(
		readonly chunk: string,
		message: string,
	) {
		super(message);
	}
}

const dec = new TextDecoder();

/** A new simulated state with SCRIPT and the CONFIG chunks run in it, in order. */
export function loadState(script: Chunk, configs: readonly Chunk[], stateName: string, budget: number, out: { prints: string[]; sent: string[] }, cpu?: number): { sim: LuaSim; loaded: { chunk: string; values: string[] }[] } {
	const sim = new LuaSim(stateName, budget, { print: (l) => out.prints.push(l), send: (d) => out.sent.push(dec.decode(d)) }, cpu);
	const loaded: { chunk: string; values: string[] }[] = [];
	for (const c of [script, ...configs]) {
		const r = sim.run(c.code, `=${c.name}`);
		if (!r.ok) throw new ScriptLoadError(c.name, r.error);
		loaded.push({ chunk: c.name, values: r.values });
	}
	return { sim, loaded };
}

export function simulate(capture: Uint8Array, script: Chunk, configs: readonly Chunk[], o: SimulateOptions): Simulation {
	const frames = parseCapture(capture);
	const io = { prints: [] as string[], sent: [] as string[] };
	const { sim, loaded } = loadState(script, configs, o.stateName, o.budget ?? DEFAULT_BUDGET, io, o.cpu);
	io.prints.length = 0;
	io.sent.length = 0;
	const s: SimulationSummary = { packets: 0, called: 0, matched: 0, notMatched: 0, errors: 0, budgetHits: 0, badResults: 0, skipped: 0, notCalled: 0, verdicts: {} };
	const packets: PacketRecord[] = [];
	const target = o.mode === 'target';
	for (const fr of frames) {
		s.packets++;
		const rec: PacketRecord = { index: fr.index, time: fr.time, result: 'skipped' };
		packets.push(rec);
		const np = networkPacket(fr.linktype, fr.data);
		if (!np.ok) {
			rec.reason = np.why;
			s.skipped++;
			continue;
		}
		const v = analyse(np.ip, np.family);
		if (v === undefined) {
			rec.reason = 'the kernel cannot read its IP header';
			s.skipped++;
			continue;
		}
		rec.family = v.family;
		rec.src = address(v, true);
		rec.dst = address(v, false);
		rec.protocol = v.proto;
		const sp = port(v, true);
		const dp = port(v, false);
		if (sp !== undefined) rec.sport = sp;
		if (dp !== undefined) rec.dport = dp;
		rec.len = v.len;
		if (!target && o.tcpPayload && !(v.proto === 6 && v.l4ok && v.payoff < v.len)) {
			rec.result = 'not-called';
			rec.reason = 'no TCP payload (--tcp-payload)';
			rec.matched = false;
			s.notCalled++;
			continue;
		}
		s.called++;
		const r = sim.call(o.fn, v, target);
		if (r.ok) {
			if ('matched' in r) {
				rec.result = r.matched ? 'match' : 'no-match';
				rec.matched = r.matched;
				if (r.matched) s.matched++;
				else s.notMatched++;
			} else {
				rec.result = r.verdict;
				rec.verdict = r.verdict;
			}
			if (r.replies !== undefined) rec.replies = r.replies.map((x) => dec.decode(x));
		} else {
			rec.result = r.kind;
			rec.error = r.message;
			if (r.kind === 'bad-result') s.badResults++;
			else s.errors++;
			if (r.kind === 'budget') s.budgetHits++;
			if (target) rec.verdict = 'continue';
			else {
				rec.matched = false;
				s.notMatched++;
			}
		}
		if (rec.verdict !== undefined) s.verdicts[rec.verdict] = (s.verdicts[rec.verdict] ?? 0) + 1;
		if (io.prints.length > 0) rec.prints = io.prints.splice(0);
		if (io.sent.length > 0) rec.sent = io.sent.splice(0);
	}
	return { script: script.name, function: o.fn, mode: o.mode, loaded, packets, summary: s };
}

const PROTO: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 0: 'fragment' };

/** "10.0.0.1:4321 > 10.0.0.2:80 TCP" */
export function flowText(r: PacketRecord): string {
	if (r.src === undefined) return '-';
	const ep = (a: string, p: number | undefined): string => (p === undefined ? a : r.family === 6 ? `[${a}]:${p}` : `${a}:${p}`);
	return `${ep(r.src, r.sport)} > ${ep(r.dst ?? '', r.dport)} ${PROTO[r.protocol ?? -1] ?? `proto ${r.protocol}`}`;
}

/** the human lines: one per packet, then the summary */
export function simulationText(sim: Simulation): string {
	const t0 = sim.packets[0]?.time ?? 0;
	const lines = sim.packets.map((r) => {
		const what = r.error !== undefined ? `${r.result}: ${r.error}` : r.reason !== undefined ? `${r.result} (${r.reason})` : r.result;
		const extra = [...(r.prints ?? []).map((p) => `\n    print: ${p}`), ...(r.sent ?? []).map((p) => `\n    sent: ${p}`)].join('');
		return `${String(r.index).padStart(5)}  ${(r.time - t0).toFixed(6)}  ${flowText(r)}${r.len === undefined ? '' : ` len ${r.len}`}  ${what}${extra}`;
	});
	const s = sim.summary;
	const verdicts = Object.entries(s.verdicts).map(([k, v]) => `${v} ${k}`).join(', ');
	const head = sim.mode === 'match' ? `${s.matched} matched, ${s.notMatched} not matched` : `verdicts: ${verdicts === '' ? 'none' : verdicts}`;
	lines.push(`${s.packets} packets, ${s.called} called: ${head}; ${s.errors} errors (${s.budgetHits} budget), ${s.badResults} bad results, ${s.skipped} skipped, ${s.notCalled} not called`);
	return `${lines.join('\n')}\n`;
}
