/**
 * A Lua state that behaves like one of nflua.ko's, in fengari (Lua 5.3 in JavaScript): the
 * kernel's libraries (base, string, table, coroutine, utf8, nflua; no io, os, math, debug,
 * package), its changes to them (text-only `load`, no `string.dump`, `string.format` refusing
 * float conversions, `setmetatable` refusing `__gc`), the per-call instruction budget, and
 * the packet object of nflua-kmod/src/packet.c with the same methods, fields, offsets and
 * errors. Pure: no I/O; `print` and `nflua.send` go to callbacks.
 *
 * What fengari cannot reproduce (`nfluactl check` reports it): integers are 32-bit here,
 * 64-bit in the kernel; `/` and `^` give floats here, integers there; `<const>`/`<close>` do
 * not parse; library work (pattern steps) is not charged to the budget; no memory cap.
 */
import fengari, { type JsFunction, type LuaState } from 'fengari';
import { address, port, type PacketView } from './packet.js';

const { lua, lauxlib, lualib, to_luastring } = fengari;
const cache = new Map<string, Uint8Array>();
/** a Lua string from JS text (cached: names are reused on every packet) */
function ls(s: string): Uint8Array {
	let v = cache.get(s);
	if (v === undefined) {
		v = to_luastring(s);
		if (cache.size < 1000) cache.set(s, v);
	}
	return v;
}
const dec = new TextDecoder();
const text = (b: Uint8Array | null): string => (b === null ? '' : dec.decode(b));

const PACKET_MT = 'nflua.packet';
const PACKET_KEY = 'nflua.packet.object';
export const DEFAULT_BUDGET = 100000;

/** The kernel's library changes, in Lua (lualib_nflua.c, the lstrlib.c patch). */
const PRELUDE = `
local type, error, tostring, rawget = type, error, tostring, rawget
local sfind, ssub = string.find, string.sub
local oformat, oload, osetmt = string.format, load, setmetatable
string.dump = nil
dofile, loadfile = nil, nil
string.format = function(fmt, ...)
	if type(fmt) == "string" then
		local i = 1
		while true do
			local s = sfind(fmt, "%", i, true)
			if not s then break end
			if ssub(fmt, s + 1, s + 1) == "%" then
				i = s + 2
			else
				local _, e, c = sfind(fmt, "^[-+ #0]*%d*%.?%d*(.?)", s + 1)
				if c ~= "" and sfind("aAeEfFgG", c, 1, true) then
					error("invalid conversion '" .. ssub(fmt, s, e) .. "' to 'format' (no floating point in kernel Lua)", 2)
				end
				i = e + 1
			end
		end
	end
	return oformat(fmt, ...)
end
load = function(chunk, name, mode, ...)
	if mode == nil then mode = "t" end
	if mode ~= "t" then
		return nil, "mode '" .. tostring(mode) .. "' refused: only text chunks can be loaded in the kernel"
	end
	return oload(chunk, name, "t", ...)
end
setmetatable = function(t, mt)
	if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
		error("'__gc' metamethods are not supported in the kernel", 2)
	end
	return (osetmt(t, mt))
end
`;

/** The packet being handled, and what the script did to it. */
interface Binding {
	view: PacketView;
	mark: number;
	flow: string | undefined;
	reset: boolean;
	replies: Uint8Array[];
}

export type CallOutcome =
	| { ok: true; matched: boolean }
	| { ok: true; verdict: 'continue' | 'accept' | 'drop' | 'reset' }
	| { ok: false; kind: 'error' | 'budget' | 'bad-result'; message: string; verdict?: 'continue' };

export interface SimHooks {
	print(line: string): void;
	send(data: Uint8Array): void;
}

export class LuaSim {
	private readonly L: LuaState;
	private cur: Binding | null = null;
	private used = 0;
	private exhausted = false;
	private readonly connmarks = new Map<string, number>();

	constructor(
		readonly stateName: string,
		readonly budget: number = DEFAULT_BUDGET,
		private readonly hooks: SimHooks = { print: () => undefined, send: () => undefined },
		/** a per-CPU state's replica: the CPU id scripts see in nflua.cpu (nil otherwise) */
		readonly cpu?: number,
	) {
		const L = lauxlib.luaL_newstate();
		this.L = L;
		const libs: [string, JsFunction][] = [
			['_G', lualib.luaopen_base],
			['coroutine', lualib.luaopen_coroutine],
			['table', lualib.luaopen_table],
			['string', lualib.luaopen_string],
			['utf8', lualib.luaopen_utf8],
		];
		for (const [name, f] of libs) {
			lauxlib.luaL_requiref(L, ls(name), f, true);
			lua.lua_pop(L, 1);
		}
		lauxlib.luaL_requiref(L, ls('nflua'), (L2) => this.openNflua(L2), true);
		lua.lua_pop(L, 1);
		lua.lua_pushcfunction(L, (L2) => this.print(L2));
		lua.lua_setglobal(L, ls('print'));
		// the kernel's tolower/toupper (linux/ctype.h) know Latin-1 letters; fengari's only ASCII
		lua.lua_getglobal(L, ls('string'));
		lua.lua_pushcfunction(L, (L2) => mapBytes(L2, kernelLower));
		lua.lua_setfield(L, -2, ls('lower'));
		lua.lua_pushcfunction(L, (L2) => mapBytes(L2, kernelUpper));
		lua.lua_setfield(L, -2, ls('upper'));
		lua.lua_pop(L, 1);
		const r = this.run(to_luastring(PRELUDE), '=nflua-prelude');
		if (!r.ok) throw new Error(`simulator prelude: ${r.error}`);
		this.openPacket();
	}

	private openNflua(L: LuaState): number {
		lauxlib.luaL_newlib(L, {
			send: (L2: LuaState) => {
				this.hooks.send(lauxlib.luaL_checkstring(L2, 1));
				lua.lua_pushboolean(L2, true);
				return 1;
			},
		});
		lua.lua_pushstring(L, ls(this.stateName));
		lua.lua_setfield(L, -2, ls('state'));
		if (this.cpu !== undefined) {
			lua.lua_pushinteger(L, this.cpu);
			lua.lua_setfield(L, -2, ls('cpu'));
		}
		return 1;
	}

	private print(L: LuaState): number {
		const n = lua.lua_gettop(L);
		const parts: string[] = [];
		for (let i = 1; i <= n; i++) {
			parts.push(text(lauxlib.luaL_tolstring(L, i)));
			lua.lua_pop(L, 1);
		}
		this.hooks.print(parts.join('\t').slice(0, 200));
		return 0;
	}

	/** Loads a text chunk and runs it (as `nfluactl execute` does); its results as text. */
	run(chunk: Uint8Array, chunkName: string): { ok: true; values: string[] } | { ok: false; error: string } {
		const L = this.L;
		lua.lua_settop(L, 0);
		if (lauxlib.luaL_loadbufferx(L, chunk, chunk.length, ls(chunkName), ls('t')) !== lua.LUA_OK) return { ok: false, error: this.popError() };
		this.armBudget();
		const st = lua.lua_pcall(L, 0, lua.LUA_MULTRET, 0);
		this.disarm();
		if (st !== lua.LUA_OK) return { ok: false, error: this.popError() };
		const values: string[] = [];
		for (let i = 1; i <= lua.lua_gettop(L); i++) {
			values.push(text(lauxlib.luaL_tolstring(L, i)));
			lua.lua_pop(L, 1);
		}
		lua.lua_settop(L, 0);
		return { ok: true, values };
	}

	private popError(): string {
		const L = this.L;
		const m = lua.lua_type(L, -1) === lua.LUA_TSTRING ? text(lua.lua_tostring(L, -1)) : `(error object is a ${text(lauxlib.luaL_typename(L, -1))} value)`;
		lua.lua_settop(L, 0);
		return m;
	}

	/** the kernel's count hook: every 1000 instructions, every one once the budget is gone */
	private armBudget(): void {
		this.used = 0;
		this.exhausted = false;
		const step = Math.min(1000, this.budget);
		const hook = (L: LuaState): void => {
			if (!this.exhausted) {
				this.used += step;
				if (this.used < this.budget) return;
				this.exhausted = true;
				lua.lua_sethook(L, hook, lua.LUA_MASKCOUNT, 1);
			}
			lauxlib.luaL_error(L, ls('instruction budget exhausted (%d instructions)'), this.budget);
		};
		lua.lua_sethook(this.L, hook, lua.LUA_MASKCOUNT, step);
	}

	private disarm(): void {
		lua.lua_sethook(this.L, null, 0, 0);
	}

	/**
	 * Calls FUNCTION with the packet, as a match (true/false) or a target (a verdict), with the
	 * kernel's rules for results (state.c, nflua_packet_fn; xt_lua.c).
	 */
	call(fn: string, view: PacketView, target: boolean): CallOutcome & { replies?: Uint8Array[] } {
		const L = this.L;
		lua.lua_settop(L, 0);
		const b: Binding = { view, mark: 0, flow: flowKey(view), reset: false, replies: [] };
		this.cur = b;
		this.armBudget();
		let out: CallOutcome;
		try {
			if (lua.lua_getglobal(L, ls(fn)) !== lua.LUA_TFUNCTION) {
				out = { ok: false, kind: 'error', message: `no function '${fn}' in state '${this.stateName}'` };
			} else {
				lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ls(PACKET_KEY));
				const st = lua.lua_pcall(L, 1, 1, 0);
				if (st !== lua.LUA_OK) {
					const message = this.popError();
					out = { ok: false, kind: this.exhausted ? 'budget' : 'error', message };
				} else out = this.result(target, b);
			}
		} finally {
			this.disarm();
			this.cur = null;
			lua.lua_settop(L, 0);
		}
		if (target && !out.ok) out.verdict = 'continue';
		if (target && out.ok && b.reset) out = { ok: true, verdict: 'reset' };
		return b.replies.length > 0 && out.ok ? { ...out, replies: b.replies } : out;
	}

	private result(target: boolean, b: Binding): CallOutcome {
		const L = this.L;
		const t = lua.lua_type(L, -1);
		if (!target) {
			if (t === lua.LUA_TBOOLEAN || t === lua.LUA_TNIL) return { ok: true, matched: lua.lua_toboolean(L, -1) };
		} else if (t === lua.LUA_TSTRING) {
			const v = text(lua.lua_tostring(L, -1));
			if (v === 'continue' || v === 'accept' || v === 'drop' || v === 'reset') {
				if (v === 'reset') b.reset = true;
				return { ok: true, verdict: v };
			}
		}
		const shown = t === lua.LUA_TSTRING ? ` ${text(lua.lua_tostring(L, -1))}` : '';
		return { ok: false, kind: 'bad-result', message: `returned ${text(lauxlib.luaL_typename(L, -1))}${shown}, not ${target ? 'a verdict' : 'a boolean'}` };
	}

	// ---- the packet object (packet.c) ----

	private check(L: LuaState): Binding {
		lauxlib.luaL_checkudata(L, 1, ls(PACKET_MT));
		if (this.cur === null) lauxlib.luaL_error(L, ls('packet used outside its call'));
		return this.cur as Binding;
	}

	/** Lua's string.sub rules for i, j over n bytes (nflua_subrange) */
	private subrange(L: LuaState, arg: number, n: number): [number, number] {
		let i = lauxlib.luaL_optinteger(L, arg, 1);
		let j = lauxlib.luaL_optinteger(L, arg + 1, -1);
		if (i < 0) i = Math.max(n + i + 1, 1);
		else if (i === 0) i = 1;
		if (j < 0) j = n + j + 1;
		else if (j > n) j = n;
		if (i > j) return [0, 0];
		return [i - 1, j - i + 1];
	}

	private pushBytes(L: LuaState, b: Binding, off: number, n: number): void {
		lua.lua_pushstring(L, b.view.bytes.slice(off, off + n));
	}

	private openPacket(): void {
		const L = this.L;
		const self = this;
		const methods: Record<string, JsFunction> = {
			bytes(L2) {
				const b = self.check(L2);
				const [from, n] = self.subrange(L2, 2, b.view.len);
				self.pushBytes(L2, b, from, n);
				return 1;
			},
			payload(L2) {
				const b = self.check(L2);
				if (!b.view.l4ok) {
					lua.lua_pushliteral(L2, '');
					return 1;
				}
				const [from, n] = self.subrange(L2, 2, b.view.len - b.view.payoff);
				self.pushBytes(L2, b, b.view.payoff + from, n);
				return 1;
			},
			mark(L2) {
				const b = self.check(L2);
				if (!lua.lua_isnoneornil(L2, 2)) b.mark = lauxlib.luaL_checkinteger(L2, 2) >>> 0;
				lua.lua_pushinteger(L2, b.mark | 0);
				return 1;
			},
			connmark(L2) {
				const b = self.check(L2);
				if (b.flow === undefined) {
					lua.lua_pushnil(L2);
					return 1;
				}
				if (!lua.lua_isnoneornil(L2, 2)) self.connmarks.set(b.flow, lauxlib.luaL_checkinteger(L2, 2) >>> 0);
				lua.lua_pushinteger(L2, (self.connmarks.get(b.flow) ?? 0) | 0);
				return 1;
			},
			reset(L2) {
				const b = self.check(L2);
				lua.lua_pushboolean(L2, b.view.proto === 6);
				if (b.view.proto === 6) b.reset = true;
				return 1;
			},
			tcpreply(L2) {
				const b = self.check(L2);
				const msg = lauxlib.luaL_checkstring(L2, 2);
				const why = b.view.proto !== 6 || !b.view.l4ok ? 'not a TCP segment' : b.replies.length > 0 ? 'this packet already has a reply' : undefined;
				if (why !== undefined) {
					lua.lua_pushnil(L2);
					lua.lua_pushstring(L2, ls(why));
					return 2;
				}
				b.replies.push(msg);
				lua.lua_pushboolean(L2, true);
				return 1;
			},
		};
		lauxlib.luaL_newmetatable(L, ls(PACKET_MT));
		lauxlib.luaL_newlib(L, methods);
		lua.lua_getglobal(L, ls('string'));
		lua.lua_getfield(L, -1, ls('packsize'));
		lua.lua_getfield(L, -2, ls('unpack'));
		lua.lua_pushcclosure(L, (L2) => this.unpack(L2), 2);
		lua.lua_setfield(L, -3, ls('unpack'));
		lua.lua_pop(L, 1);
		lua.lua_pushcclosure(L, (L2) => this.index(L2), 1);
		lua.lua_setfield(L, -2, ls('__index'));
		lua.lua_pushcfunction(L, (L2) => {
			lua.lua_pushinteger(L2, this.check(L2).view.len);
			return 1;
		});
		lua.lua_setfield(L, -2, ls('__len'));
		lua.lua_pushcfunction(L, (L2) => {
			const b = this.check(L2);
			this.pushBytes(L2, b, 0, b.view.len);
			return 1;
		});
		lua.lua_setfield(L, -2, ls('__tostring'));
		lua.lua_pushliteral(L, 'packet');
		lua.lua_setfield(L, -2, ls('__name'));
		lua.lua_pop(L, 1);
		lua.lua_newuserdata(L, 0);
		lauxlib.luaL_setmetatable(L, ls(PACKET_MT));
		lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ls(PACKET_KEY));
	}

	/** pkt:unpack(fmt [, pos]) (nflua_packet_unpack) */
	private unpack(L: LuaState): number {
		const b = this.check(L);
		const pos = lauxlib.luaL_optinteger(L, 3, 1);
		lauxlib.luaL_checkstring(L, 2);
		lauxlib.luaL_argcheck(L, pos >= 1 && pos <= b.view.len + 1, 3, ls('initial position out of packet'));
		lua.lua_settop(L, 2);
		lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
		lua.lua_pushvalue(L, 2);
		lua.lua_call(L, 1, 1);
		const size = lua.lua_tointeger(L, -1);
		lua.lua_pop(L, 1);
		if (size < 0 || size > b.view.len - (pos - 1)) {
			lauxlib.luaL_error(L, ls('data too short: %d bytes at position %d of a %d-byte packet'), size, pos, b.view.len);
		}
		lua.lua_pushvalue(L, lua.lua_upvalueindex(2));
		lua.lua_pushvalue(L, 2);
		this.pushBytes(L, b, pos - 1, size);
		lua.lua_call(L, 2, lua.LUA_MULTRET);
		lua.lua_pushinteger(L, lua.lua_tointeger(L, -1) + pos - 1);
		lua.lua_replace(L, -2);
		return lua.lua_gettop(L) - 2;
	}

	/** fields (nflua_packet_index): methods first, then family, protocol, src, dst, ... */
	private index(L: LuaState): number {
		const b = this.check(L);
		const k = text(lauxlib.luaL_checkstring(L, 2));
		if (lua.lua_getfield(L, lua.lua_upvalueindex(1), ls(k)) !== lua.LUA_TNIL) return 1;
		const v = b.view;
		switch (k) {
			case 'family':
				lua.lua_pushinteger(L, v.family);
				break;
			case 'protocol':
				lua.lua_pushinteger(L, v.proto);
				break;
			case 'src':
			case 'dst':
				lua.lua_pushstring(L, ls(address(v, k === 'src')));
				break;
			case 'sport':
			case 'dport': {
				const p = port(v, k === 'sport');
				if (p === undefined) lua.lua_pushnil(L);
				else lua.lua_pushinteger(L, p);
				break;
			}
			case 'l4off':
				lua.lua_pushinteger(L, v.l4off);
				break;
			case 'payloadoff':
				lua.lua_pushinteger(L, v.payoff);
				break;
			case 'payloadlen':
				lua.lua_pushinteger(L, v.l4ok ? v.len - v.payoff : 0);
				break;
			default:
				lua.lua_pushnil(L);
		}
		return 1;
	}
}

/** tolower() of linux/ctype.h: A-Z and the Latin-1 capitals 0xC0-0xDE (not 0xD7) */
export function kernelLower(c: number): number {
	return (c >= 65 && c <= 90) || (c >= 0xc0 && c <= 0xde && c !== 0xd7) ? c + 32 : c;
}

/** toupper() of linux/ctype.h: a-z and the Latin-1 small letters 0xDF-0xFF (not 0xF7), minus 32 */
export function kernelUpper(c: number): number {
	return (c >= 97 && c <= 122) || (c >= 0xdf && c !== 0xf7) ? c - 32 : c;
}

function mapBytes(L: LuaState, f: (c: number) => number): number {
	const s = lauxlib.luaL_checkstring(L, 1);
	lua.lua_pushstring(L, s.map(f));
	return 1;
}

/** the connection of a TCP or UDP packet, the same both ways (what conntrack would track) */
export function flowKey(v: PacketView): string | undefined {
	const sp = port(v, true);
	const dp = port(v, false);
	if (sp === undefined || dp === undefined) return undefined;
	const a = `${address(v, true)}|${sp}`;
	const z = `${address(v, false)}|${dp}`;
	return `${v.proto}|${a < z ? `${a}|${z}` : `${z}|${a}`}`;
}
