/**
 * `nfluactl check`: what the kernel's Lua (integer-only Lua 5.4, docs/kernel-lua.md) would
 * reject or run differently, and what the simulator (fengari: Lua 5.3, 32-bit integers)
 * cannot reproduce, found on tokens with file:line:column. Pure: text in, findings out.
 *
 * Severity `error`: the kernel refuses it, or it means something else there than in standard
 * Lua (so the script's author probably expects what it does not do). `warning`: only the
 * simulator differs from the kernel, so `simulate` cannot vouch for that part.
 */
import fengari from 'fengari';
import { ExitCode, NfluaError } from './errors.js';

export type Severity = 'error' | 'warning';

export interface Finding {
	line: number;
	column: number;
	severity: Severity;
	/** stable identifier of the rule (docs/cli.md) */
	code: string;
	message: string;
}

type TokKind = 'name' | 'keyword' | 'number' | 'string' | 'op' | 'eof';

export interface Token {
	kind: TokKind;
	/** source text (for strings: the decoded value) */
	value: string;
	line: number;
	column: number;
	/** string token: long bracket form */
	long?: boolean;
}

const KEYWORDS = new Set([
	'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
	'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]);
const OPS3 = ['...'];
const OPS2 = ['..', '==', '~=', '<=', '>=', '<<', '>>', '//', '::'];

export class LexError extends Error {
	constructor(
		message: string,
		readonly line: number,
		readonly column: number,
	) {
		super(message);
	}
}

/** Lua 5.4's tokens (comments dropped). Throws LexError on what Lua's lexer also refuses. */
export function tokenize(src: string): Token[] {
	const out: Token[] = [];
	let i = 0;
	let line = 1;
	let lineStart = 0;
	const n = src.length;
	const col = (p: number): number => p - lineStart + 1;
	const newline = (p: number): void => {
		line++;
		lineStart = p + 1;
	};
	// a long bracket at i ("[", "="*, "["): its level, or -1
	const longLevel = (p: number): number => {
		if (src[p] !== '[') return -1;
		let q = p + 1;
		while (src[q] === '=') q++;
		return src[q] === '[' ? q - p - 1 : -1;
	};
	const readLong = (p: number, level: number): [string, number] => {
		const close = `]${'='.repeat(level)}]`;
		let q = p + level + 2;
		if (src[q] === '\r' || src[q] === '\n') {
			const c = src[q];
			newline(q);
			q++;
			if ((src[q] === '\r' || src[q] === '\n') && src[q] !== c) q++;
		}
		const start = q;
		for (;;) {
			if (q >= n) throw new LexError('unfinished long string or comment', line, col(p));
			if (src.startsWith(close, q)) return [src.slice(start, q), q + close.length];
			if (src[q] === '\n') newline(q);
			q++;
		}
	};
	if (src.startsWith('#')) {
		while (i < n && src[i] !== '\n') i++;
	}
	while (i < n) {
		const c = src[i] as string;
		if (c === '\n') {
			newline(i);
			i++;
			continue;
		}
		if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
			i++;
			continue;
		}
		const startCol = col(i);
		const startLine = line;
		if (c === '-' && src[i + 1] === '-') {
			const lv = longLevel(i + 2);
			if (lv >= 0) [, i] = readLong(i + 2, lv);
			else while (i < n && src[i] !== '\n') i++;
			continue;
		}
		if (/[A-Za-z_]/.test(c)) {
			let q = i + 1;
			while (q < n && /[A-Za-z0-9_]/.test(src[q] as string)) q++;
			const w = src.slice(i, q);
			out.push({ kind: KEYWORDS.has(w) ? 'keyword' : 'name', value: w, line: startLine, column: startCol });
			i = q;
			continue;
		}
		if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
			// Lua reads a numeral greedily: hex digits, '.', exponent with sign
			let q = i;
			const hex = c === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X');
			if (hex) q += 2;
			const exp = hex ? /[pP]/ : /[eE]/;
			for (;;) {
				const d = src[q] ?? '';
				if (exp.test(d) && /[+-]/.test(src[q + 1] ?? '')) q += 2;
				else if (/[0-9A-Za-z_.]/.test(d)) q++;
				else break;
			}
			out.push({ kind: 'number', value: src.slice(i, q), line: startLine, column: startCol });
			i = q;
			continue;
		}
		if (c === '"' || c === "'") {
			const [v, q] = readQuoted(src, i, startLine);
			out.push({ kind: 'string', value: v, line: startLine, column: startCol });
			i = q;
			continue;
		}
		if (c === '[') {
			const lv = longLevel(i);
			if (lv >= 0) {
				const [v, q] = readLong(i, lv);
				out.push({ kind: 'string', value: v, line: startLine, column: startCol, long: true });
				i = q;
				continue;
			}
		}
		const op = OPS3.find((o) => src.startsWith(o, i)) ?? OPS2.find((o) => src.startsWith(o, i)) ?? c;
		if (!/^[-+*/%^#&~|<>=(){}[\];:,.]+$/.test(op)) throw new LexError(`unexpected symbol near '${op}'`, startLine, startCol);
		out.push({ kind: 'op', value: op, line: startLine, column: startCol });
		i += op.length;
	}
	out.push({ kind: 'eof', value: '', line, column: col(i) });
	return out;
}

function readQuoted(src: string, start: number, line: number): [string, number] {
	const quote = src[start];
	let q = start + 1;
	let v = '';
	for (;;) {
		const c = src[q];
		if (c === undefined || c === '\n' || c === '\r') throw new LexError('unfinished string', line, 1);
		if (c === quote) return [v, q + 1];
		if (c === '\\') {
			const e = src[q + 1] ?? '';
			const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'", '\n': '\n' };
			if (e in simple) {
				v += simple[e];
				q += 2;
			} else if (e === 'x') {
				v += String.fromCharCode(parseInt(src.slice(q + 2, q + 4), 16) || 0);
				q += 4;
			} else if (e === 'z') {
				q += 2;
				while (/\s/.test(src[q] ?? '')) q++;
			} else if (/[0-9]/.test(e)) {
				const m = /^[0-9]{1,3}/.exec(src.slice(q + 1)) as RegExpExecArray;
				v += String.fromCharCode(Number(m[0]) & 255);
				q += 1 + m[0].length;
			} else if (e === 'u') {
				const m = /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(q + 2));
				v += m ? '?' : '';
				q += 2 + (m ? m[0].length : 0);
			} else {
				v += e;
				q += 2;
			}
			continue;
		}
		v += c;
		q++;
	}
}

const LIBS_ABSENT: Record<string, string> = {
	io: 'there is no io library in the kernel (no files)',
	os: 'there is no os library in the kernel (no processes, no clock)',
	math: 'there is no math library in the kernel (it is about floats)',
	debug: 'there is no debug library in the kernel',
	package: 'there is no package library in the kernel',
	require: 'there is no require in the kernel: load each file into the state (nfluactl execute)',
	dofile: 'there is no dofile in the kernel (no files)',
	loadfile: 'there is no loadfile in the kernel (no files)',
};

const INT32_MAX = 2147483647n;
const INT64_MAX = 9223372036854775807n;

/** a numeral's value, or 'float' */
function numeral(t: string): bigint | 'float' | 'bad' {
	const hex = /^0[xX]/.test(t);
	if (hex) {
		if (/[.pP]/.test(t)) return 'float';
		if (!/^0[xX][0-9A-Fa-f]+$/.test(t)) return 'bad';
		return BigInt(t);
	}
	if (/[.eE]/.test(t)) return /^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t) ? 'float' : 'bad';
	if (!/^[0-9]+$/.test(t)) return 'bad';
	return BigInt(t);
}

/** the float conversions of a string.format format, with their text (e.g. '%5.2f') */
function floatConversions(fmt: string): string[] {
	const found: string[] = [];
	const re = /%(%|[-+ #0]*[0-9]*(?:\.[0-9]*)?([A-Za-z]?))/g;
	for (let m = re.exec(fmt); m !== null; m = re.exec(fmt)) {
		if (m[1] !== '%' && m[2] !== undefined && 'aAeEfFgG'.includes(m[2]) && m[2] !== '') found.push(m[0]);
	}
	return found;
}

/** The token-level rules. */
export function lint(tokens: Token[]): Finding[] {
	const f: Finding[] = [];
	const add = (t: Token, severity: Severity, code: string, message: string): void => {
		f.push({ line: t.line, column: t.column, severity, code, message });
	};
	const at = (i: number): Token => tokens[i] ?? (tokens[tokens.length - 1] as Token);
	const isField = (i: number): boolean => {
		const p = at(i - 1);
		return i > 0 && p.kind === 'op' && (p.value === '.' || p.value === ':');
	};
	const isKey = (i: number): boolean => at(i + 1).kind === 'op' && at(i + 1).value === '=' && (at(i - 1).value === '{' || at(i - 1).value === ',');
	const locals = new Set<string>();
	for (let i = 0; i < tokens.length; i++) {
		const t = at(i);
		const next = at(i + 1);
		if (t.kind === 'keyword' && t.value === 'local') {
			// 'local function NAME' or 'local NAME <attrib>, ...'
			let j = i + 1;
			if (at(j).value === 'function') locals.add(at(j + 1).value);
			else {
				while (at(j).kind === 'name') {
					locals.add(at(j).value);
					j++;
					if (at(j).value === '<' && at(j + 1).kind === 'name' && at(j + 2).value === '>') {
						const a = at(j + 1);
						if (a.value === 'const' || a.value === 'close') {
							add(a, 'warning', 'attrib', `<${a.value}> is Lua 5.4: the kernel accepts it, but the simulator (fengari, Lua 5.3) cannot parse this file; drop the attribute to simulate it`);
						}
						j += 3;
					}
					if (at(j).value !== ',') break;
					j++;
				}
			}
			continue;
		}
		if (t.kind === 'keyword' && t.value === 'function') {
			// parameters are locals too: function f(os) ... end
			let j = i + 1;
			while (at(j).kind !== 'eof' && at(j).value !== '(') j++;
			for (j++; at(j).kind === 'name' || at(j).value === ','; j++) if (at(j).kind === 'name') locals.add(at(j).value);
			continue;
		}
		if (t.kind === 'number') {
			const v = numeral(t.value);
			if (v === 'float') add(t, 'error', 'float-literal', `float literal ${t.value}: the kernel's Lua has integers only and refuses it (malformed number)`);
			else if (v === 'bad') continue; // the compiler reports it
			else if (v > INT64_MAX && !/^0[xX]/.test(t.value)) add(t, 'error', 'float-literal', `${t.value} does not fit 64 bits: standard Lua makes it a float, the kernel refuses it`);
			else if (v > INT32_MAX) add(t, 'warning', 'int32', `${t.value} does not fit 32 bits: the simulator (fengari) has 32-bit integers and wraps it; the kernel has 64-bit integers`);
			continue;
		}
		if (t.kind === 'op' && t.value === '/') {
			add(t, 'error', 'slash', "'/' is floor division on integers in the kernel (7 / 2 == 3, standard Lua gives 3.5); write '//' to say so, and get the same result in the simulator");
			continue;
		}
		if (t.kind === 'op' && t.value === '^') {
			add(t, 'error', 'pow', "'^' gives an integer in the kernel (a float in standard Lua) and a negative exponent is an error there; use a loop or '<<' for powers of 2");
			continue;
		}
		if (t.kind === 'name' && !isField(i) && !isKey(i) && !locals.has(t.value) && t.value in LIBS_ABSENT) {
			add(t, 'error', 'no-library', `${t.value}: ${LIBS_ABSENT[t.value]}`);
			continue;
		}
		if (t.kind === 'name' && t.value === 'dump' && isField(i) && at(i - 2).value === 'string') {
			add(t, 'error', 'string-dump', 'string.dump is removed in the kernel (binary chunks are refused)');
			continue;
		}
		if (t.kind === 'name' && t.value === 'load' && !isField(i) && next.value === '(') {
			// the third argument at depth 1
			let depth = 0;
			let arg = 1;
			for (let j = i + 1; j < tokens.length; j++) {
				const u = at(j);
				if (u.kind === 'op' && (u.value === '(' || u.value === '{' || u.value === '[')) depth++;
				else if (u.kind === 'op' && (u.value === ')' || u.value === '}' || u.value === ']')) {
					depth--;
					if (depth === 0) break;
				} else if (depth === 1 && u.kind === 'op' && u.value === ',') arg++;
				else if (depth === 1 && arg === 3 && u.kind === 'string' && u.value !== 't') {
					add(u, 'error', 'load-binary', `load with mode "${u.value}": the kernel loads text chunks only and returns nil and an error`);
				}
			}
			continue;
		}
		if (t.kind === 'name' && t.value === 'format' && isField(i) && next.value === '(') {
			// string.format("...%f", ...) or ("..."):format(...)
			const first = at(i + 2);
			const self = at(i - 1).value === ':' ? (at(i - 2).value === ')' && at(i - 3).kind === 'string' && at(i - 4).value === '(' ? at(i - 3) : at(i - 2).kind === 'string' ? at(i - 2) : undefined) : undefined;
			const lit = self ?? (at(i - 2).value === 'string' && first.kind === 'string' ? first : undefined);
			if (lit !== undefined) {
				for (const conv of floatConversions(lit.value)) {
					add(lit, 'error', 'format-float', `string.format conversion '${conv}': the kernel refuses %a %e %f %g (no floating point)`);
				}
			}
		}
	}
	return f;
}

const { lua, lauxlib, to_luastring } = fengari;

/** fengari's compiler: undefined, or its message and line */
export function compile(src: Uint8Array, chunkName: string): { message: string; line: number } | undefined {
	const L = lauxlib.luaL_newstate();
	const st = lauxlib.luaL_loadbufferx(L, src, src.length, to_luastring(`=${chunkName}`), to_luastring('t'));
	if (st === lua.LUA_OK) return undefined;
	const msg = lua.lua_tojsstring(L, -1) ?? 'syntax error';
	const m = /^[^:]*:(\d+): (.*)$/s.exec(msg);
	return m ? { line: Number(m[1]), message: m[2] as string } : { line: 0, message: msg };
}

/** Every finding of one file, sorted by position. */
export function checkSource(src: Uint8Array, chunkName: string): Finding[] {
	const textSrc = new TextDecoder('latin1').decode(src);
	let findings: Finding[] = [];
	try {
		findings = lint(tokenize(textSrc));
	} catch (e) {
		if (!(e instanceof LexError)) throw e;
	}
	const c = compile(src, chunkName);
	if (c !== undefined) {
		const attrib = findings.some((x) => x.code === 'attrib');
		const float = findings.some((x) => x.code === 'float-literal' && x.line === c.line);
		// fengari's complaint about <const> is the attrib warning; about 1.5 it is the float finding
		if (!attrib && !float) findings.push({ line: c.line, column: 0, severity: 'error', code: 'syntax', message: c.message });
	}
	return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * check found errors, or a simulated script failed (to load, or on packets): exit 1, like the
 * kernel refusing the script would.
 */
export class ScriptError extends NfluaError {
	readonly exitCode = ExitCode.KERNEL;
	readonly kind = 'script';
}
