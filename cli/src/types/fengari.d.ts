/** fengari (Lua 5.3 in JavaScript) ships no types: the part of its C-like API that core/luasim.ts uses. */
declare module 'fengari' {
	/** a Lua state (opaque) */
	export type LuaState = { readonly __luaState: unique symbol };
	/** a JavaScript function Lua can call: returns how many results it pushed */
	export type JsFunction = (L: LuaState) => number;
	export interface Fengari {
		to_luastring(s: string): Uint8Array;
		to_jsstring(b: Uint8Array): string;
		lua: {
			LUA_OK: number;
			LUA_MULTRET: number;
			LUA_MASKCOUNT: number;
			LUA_REGISTRYINDEX: number;
			LUA_TFUNCTION: number;
			LUA_TSTRING: number;
			LUA_TNIL: number;
			LUA_TBOOLEAN: number;
			LUA_TTABLE: number;
			lua_upvalueindex(i: number): number;
			lua_settop(L: LuaState, i: number): void;
			lua_gettop(L: LuaState): number;
			lua_pop(L: LuaState, n: number): void;
			lua_pushvalue(L: LuaState, i: number): void;
			lua_replace(L: LuaState, i: number): void;
			lua_pushnil(L: LuaState): void;
			lua_pushinteger(L: LuaState, n: number): void;
			lua_pushboolean(L: LuaState, b: boolean): void;
			lua_pushstring(L: LuaState, s: Uint8Array): void;
			lua_pushliteral(L: LuaState, s: string): void;
			lua_pushcclosure(L: LuaState, f: JsFunction, n: number): void;
			lua_pushcfunction(L: LuaState, f: JsFunction): void;
			lua_newuserdata(L: LuaState, size: number): unknown;
			lua_setfield(L: LuaState, i: number, k: Uint8Array): void;
			lua_getfield(L: LuaState, i: number, k: Uint8Array): number;
			lua_getglobal(L: LuaState, k: Uint8Array): number;
			lua_setglobal(L: LuaState, k: Uint8Array): void;
			lua_call(L: LuaState, nargs: number, nres: number): void;
			lua_pcall(L: LuaState, nargs: number, nres: number, msgh: number): number;
			lua_type(L: LuaState, i: number): number;
			lua_isnoneornil(L: LuaState, i: number): boolean;
			lua_toboolean(L: LuaState, i: number): boolean;
			lua_tointeger(L: LuaState, i: number): number;
			lua_tostring(L: LuaState, i: number): Uint8Array | null;
			lua_tojsstring(L: LuaState, i: number): string | null;
			lua_error(L: LuaState): never;
			lua_sethook(L: LuaState, f: ((L: LuaState, ar: unknown) => void) | null, mask: number, count: number): void;
		};
		lauxlib: {
			luaL_newstate(): LuaState;
			luaL_requiref(L: LuaState, name: Uint8Array, f: JsFunction, glb: boolean): void;
			luaL_loadbufferx(L: LuaState, b: Uint8Array, size: number, name: Uint8Array, mode: Uint8Array | null): number;
			luaL_newmetatable(L: LuaState, name: Uint8Array): number;
			luaL_setmetatable(L: LuaState, name: Uint8Array): void;
			luaL_checkudata(L: LuaState, i: number, name: Uint8Array): unknown;
			luaL_checkstring(L: LuaState, i: number): Uint8Array;
			luaL_checkinteger(L: LuaState, i: number): number;
			luaL_optinteger(L: LuaState, i: number, d: number): number;
			luaL_argcheck(L: LuaState, cond: boolean, arg: number, msg: Uint8Array): void;
			luaL_error(L: LuaState, fmt: Uint8Array, ...args: unknown[]): never;
			luaL_setfuncs(L: LuaState, l: Record<string, JsFunction>, nup: number): void;
			luaL_newlib(L: LuaState, l: Record<string, JsFunction>): void;
			luaL_tolstring(L: LuaState, i: number): Uint8Array;
			luaL_typename(L: LuaState, i: number): Uint8Array;
		};
		lualib: {
			luaopen_base: JsFunction;
			luaopen_coroutine: JsFunction;
			luaopen_table: JsFunction;
			luaopen_string: JsFunction;
			luaopen_utf8: JsFunction;
		};
	}
	const fengari: Fengari;
	export default fengari;
}
