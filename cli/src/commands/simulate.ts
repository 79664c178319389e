import { basename } from 'node:path';
import { ScriptError } from '../core/luacheck.js';
import { UsageError } from '../core/errors.js';
import { CaptureError } from '../core/pcap.js';
import { ScriptLoadError, simulate } from '../core/simulate.js';
import { DEFAULT_BUDGET } from '../core/luasim.js';
import { parseStateName } from '../core/validate.js';
import type { CommandDef } from './context.js';
import { readInputFile } from './input.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const simulateCommand: CommandDef = {
	command: 'simulate <file>',
	describe: "run a filter function on every packet of a capture (pcap, pcapng) in a simulated state: the kernel's packet object, libraries and budget",
	builder: (y) =>
		y
			.positional('file', { type: 'string', describe: 'the Lua script (loaded first, as nfluactl execute would)' })
			.option('function', { type: 'string', demandOption: true, requiresArg: true, describe: 'global function to call with each packet' })
			.option('pcap', { type: 'string', demandOption: true, requiresArg: true, describe: 'capture file: pcap or pcapng; Ethernet, Linux cooked (SLL, SLL2), raw IP' })
			.option('state-config', { type: 'string', array: true, requiresArg: true, describe: 'Lua chunk run after FILE, e.g. the lists (repeatable, in order)' })
			.option('mode', { choices: ['match', 'target'] as const, default: 'match', describe: 'match (-m lua): true/false; target (-j LUA): a verdict string' })
			.option('tcp-payload', { type: 'boolean', describe: "as the match's --tcp-payload: call Lua only for TCP packets with payload" })
			.option('budget', { type: 'number', default: DEFAULT_BUDGET, describe: 'instructions per call, as the state would have' })
			.option('state', { type: 'string', default: 'sim', describe: 'state name (nflua.state)' })
			.option('cpu', { type: 'number', requiresArg: true, describe: "simulate CPU N's replica of a per-CPU state (create --percpu): nflua.cpu is N (default: a normal state, nflua.cpu nil)" })
			.example('$0 simulate policies/tls_sni.lua --state-config policies/tls_sni.conf.lua --function tls_sni_match --pcap tls.pcap', '')
			.example('$0 simulate policies/tls_sni.lua --function tls_sni_verdict --mode target --pcap tls.pcapng --json', ''),
	async *run(_ctx, a) {
		const fn = String(a.function);
		if (!IDENT.test(fn)) throw new UsageError(`--function '${fn}' is not a Lua name`);
		const budget = Number(a.budget);
		if (!Number.isInteger(budget) || budget < 1000 || budget > 10000000) throw new UsageError('--budget must be an integer from 1000 to 10000000');
		if (a.mode === 'target' && a['tcp-payload'] === true) throw new UsageError('--tcp-payload is an option of the match (-m lua), not of the target');
		const stateName = parseStateName(String(a.state));
		const cpu = a.cpu === undefined ? undefined : Number(a.cpu);
		if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 0 || cpu > 8191)) throw new UsageError('--cpu must be an integer from 0 to 8191 (a CPU id)');
		const file = String(a.file);
		const script = { name: basename(file), code: await readInputFile(file) };
		const configs = [];
		for (const c of (a['state-config'] as string[] | undefined) ?? []) configs.push({ name: basename(c), code: await readInputFile(c) });
		const capture = await readInputFile(String(a.pcap));
		let sim;
		try {
			sim = simulate(capture, script, configs, { fn, mode: a.mode === 'target' ? 'target' : 'match', tcpPayload: a['tcp-payload'] === true, stateName, budget, cpu });
		} catch (e) {
			if (e instanceof CaptureError) throw new UsageError(`${String(a.pcap)}: ${e.message}`);
			if (e instanceof ScriptLoadError) throw new ScriptError(`loading ${e.chunk}: ${e.message}`);
			throw e;
		}
		yield { kind: 'simulation', sim };
		const bad = sim.summary.errors + sim.summary.badResults;
		if (bad > 0) throw new ScriptError(`${sim.summary.errors} packets raised errors and ${sim.summary.badResults} returned bad results`);
	},
};
