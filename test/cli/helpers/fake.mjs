// An in-memory module behind the Transport interface: it decodes requests with the CLI's own
// decoder and answers as docs/protocol.md says, so commands can be run end to end in-process.
import { mod } from './build.mjs';

const { decodeRequest, encodeReply, decodeReply, concat, text } = await mod('core/protocol.js');

export class FakeModule {
	constructor() {
		this.states = new Map();
		this.rules = []; // iptables -S lines
		this.calls = [];
		this.iptCalls = [];
		this.queue = new Map();
		this.iptBackend = 'nf_tables';
		this.missing = new Set(); // iptables commands that "are not installed"
	}

	answer(raw) {
		const { op, fields } = decodeRequest(raw);
		const f = fields.map(text);
		this.calls.push({ op, fields: f });
		const err = (errno, msg) => encodeReply(errno, [msg]);
		const st = this.states.get(f[0]);
		const line = (s) =>
			`name=${s.name} maxalloc=${s.maxalloc} mem=1000 peak=2000 budget=${s.budget} rules=${s.rules} calls=${s.calls} errors=0 budget_hits=0` +
			(s.percpu ? ` percpu=2 cpus=0,1 cpu_mem=500,500 cpu_calls=${s.calls - (s.calls >> 1)},${s.calls >> 1} cpu_errors=0,0 cpu_budget_hits=0,0 cpu_matches=0,0` : '');
		// split=1 (execute, send): "cpu=N results=K" before each replica's results
		const split = (values) =>
			st.percpu ? [0, 1].flatMap((c) => [`cpu=${c} results=${values.length}`, ...values]) : [`cpu=all results=${values.length}`, ...values];
		const results = (values, n) => (f[n] === 'split=1' ? split(values) : st.percpu ? [...values, ...values] : values);
		switch (op) {
			case 'version':
				return encodeReply(0, ['nflua 0.1.0 lua 5.4.7']);
			case 'create': {
				if (this.states.has(f[0])) return err(17, `state '${f[0]}' exists`);
				const s = { name: f[0], maxalloc: 1048576, budget: 100000, rules: 0, calls: 0 };
				for (const o of f.slice(1)) {
					const [k, v] = o.split('=');
					s[k] = Number(v);
				}
				this.states.set(f[0], s);
				return encodeReply(0);
			}
			case 'destroy':
				if (st === undefined) return err(2, `no state '${f[0]}'`);
				if (st.rules > 0) return err(16, `state '${f[0]}' is used by ${st.rules} iptables rules`);
				this.states.delete(f[0]);
				return encodeReply(0);
			case 'list':
				return encodeReply(0, [...this.states.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(line));
			case 'stats':
				if (f.length === 0) return encodeReply(0, [`states=${this.states.size}\nall_states=${this.states.size}\nall_mem=4096\nversion=0.1.0`]);
				if (st === undefined) return err(2, `no state '${f[0]}'`);
				return encodeReply(0, [`${line(st).replace(/ /g, '\n')}\nalloc_fails=0\nqueued=${(this.queue.get(f[0]) ?? []).length}\ndropped=0\nstack_peak=512`]);
			case 'set':
				if (st === undefined) return err(2, `no state '${f[0]}'`);
				for (const o of f.slice(1)) {
					const [k, v] = o.split('=');
					st[k] = Number(v);
				}
				return encodeReply(0);
			case 'execute': {
				if (st === undefined) return err(2, `no state '${f[0]}'`);
				st.calls++;
				const code = f[2];
				if (code.includes('while true')) return err(62, 'instruction budget exhausted (100000 instructions)');
				const m = /^return (.*)$/.exec(code.trim());
				if (m === null) return code.includes('error') ? err(22, `${f[1]}:1: boom`) : encodeReply(0, results([], 3));
				return encodeReply(0, results(m[1].split(',').map((x) => x.trim().replace(/^"|"$/g, '')), 3));
			}
			case 'send':
				if (st === undefined) return err(2, `no state '${f[0]}'`);
				if (!st.onReceive) return err(38, `state '${f[0]}' has no on_receive function`);
				return encodeReply(0, results([`got ${fields[1].length} bytes`], 2));
			case 'receive': {
				if (st === undefined) return err(2, `no state '${f[0]}'`);
				const q = this.queue.get(f[0]) ?? [];
				if (q.length === 0) return err(11, 'no message');
				this.queue.set(f[0], []);
				return encodeReply(0, q);
			}
			default:
				return err(95, `unknown operation '${op}'`);
		}
	}

	transport(where = 'local') {
		const self = this;
		return {
			where,
			supportsNonblock: where === 'local',
			async call(req) {
				return decodeReply(self.answer(concat(req.chunks)));
			},
			async runIptables(argv) {
				self.iptCalls.push(argv);
				const [cmd, ...args] = argv;
				if (self.missing.has(cmd)) return { code: 127, signal: null, stdout: '', stderr: `${cmd}: not found` };
				if (args[0] === '-V') return { code: 0, signal: null, stdout: `${cmd} v1.8.8 (${self.iptBackend})\n`, stderr: '' };
				const i = args.findIndex((a) => /^-[ACDIS]$/.test(a));
				const action = args[i];
				const table = args[args.indexOf('-t') + 1];
				const fam = cmd.startsWith('ip6') ? 6 : 4;
				if (action === '-S') {
					const out = self.rules.filter((r) => r.fam === fam && r.table === table).map((r) => r.line);
					return { code: 0, signal: null, stdout: `-P INPUT ACCEPT\n${out.join('\n')}\n`, stderr: '' };
				}
				const chain = args[i + 1];
				const rest = args.slice(action === '-I' ? i + 3 : i + 2);
				const line = `-A ${chain} ${rest.map((w) => (/^[A-Za-z0-9_./:!-]+$/.test(w) ? w : `"${w}"`)).join(' ')}`;
				const idx = self.rules.findIndex((r) => r.fam === fam && r.table === table && r.line === line);
				const stateName = rest[rest.indexOf('--state') + 1];
				if (action === '-C') return { code: idx >= 0 ? 0 : 1, signal: null, stdout: '', stderr: idx >= 0 ? '' : 'iptables: Bad rule' };
				if (action === '-D') {
					if (idx < 0) return { code: 1, signal: null, stdout: '', stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).' };
					self.rules.splice(idx, 1);
					const s = self.states.get(stateName);
					if (s) s.rules--;
					return { code: 0, signal: null, stdout: '', stderr: '' };
				}
				const s = self.states.get(stateName);
				if (s === undefined) return { code: 2, signal: null, stdout: '', stderr: `lua: no state '${stateName}'` };
				s.rules++;
				self.rules.push({ fam, table, line });
				return { code: 0, signal: null, stdout: '', stderr: '' };
			},
			async close() {},
		};
	}
}

/** Runs the CLI in-process: { code, stdout, stderr }. */
export async function runCli(argv, { fake, stdin = '', env = {}, where, stderrIsTTY } = {}) {
	const { main } = await mod('index.js');
	let out = Buffer.alloc(0);
	let err = '';
	const ac = new AbortController();
	const code = await main({
		argv,
		env,
		stdout: (b) => {
			out = Buffer.concat([out, Buffer.from(b)]);
		},
		stderr: (s) => {
			err += s;
		},
		readStdin: async () => Buffer.from(stdin),
		signal: ac.signal,
		openTransport: fake === undefined ? undefined : () => fake.transport(where),
		stderrIsTTY,
	});
	return { code, stdout: out.toString('utf8'), stderr: err };
}
