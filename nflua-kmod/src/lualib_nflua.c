// SPDX-License-Identifier: GPL-2.0
/*
 * What scripts see: Lua's base, string, table, coroutine and utf8 libraries, minus everything
 * that reads files or loads bytecode, plus the 'nflua' library. docs/kernel-lua.md lists it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "state.h"
#include "lualib_nflua.h"
#include "packet.h"

/* load() for text only: Lua does not verify bytecode, and a crafted binary chunk reads and
 * writes memory outside the VM. The original load is the upvalue. */
static int nflua_load(lua_State *L)
{
	const char *mode = luaL_optstring(L, 3, "t");
	int nargs = lua_gettop(L);

	if (strcmp(mode, "t") != 0) {
		luaL_pushfail(L);
		lua_pushfstring(L, "mode '%s' refused: only text chunks can be loaded in the kernel",
				mode);
		return 2;
	}
	if (nargs < 3)
		lua_settop(L, nargs = 3);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, nargs, LUA_MULTRET);
	return lua_gettop(L);
}

/* setmetatable without __gc: Lua runs finalizers with hooks disabled (lgc.c, GCTM), so the
 * budget could not stop one. A __gc field added after setmetatable is ignored by Lua. */
static int nflua_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "'__gc' metamethods are not supported in the kernel");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/*
 * Library functions whose work grows with something no other charge sees: a pattern or a format
 * is scanned on every call (and a pattern once per subject position), and a collection walks
 * the whole heap. They are charged that before they run (rates in nflua_libc.h); the original
 * C function (upvalue 1) is then called directly, in the same call frame. Upvalue 2 is the
 * argument to charge by its length (negative: a format, dearer per byte than a pattern), or 0
 * for collectgarbage.
 */
static int nflua_charged(lua_State *L)
{
	lua_CFunction fn = lua_tocfunction(L, lua_upvalueindex(1));
	int arg = (int)lua_tointeger(L, lua_upvalueindex(2));
	size_t len;

	if (arg == 0) {
		/* the first four may walk the whole heap */
		static const char *const opts[] = { "collect", "step", "incremental", "generational",
						    "count", "isrunning", "stop", "restart", NULL };

		if (luaL_checkoption(L, 1, "collect", opts) < 4)
			nflua_work(L, nflua_gc_work(nflua_state_of(L)));
	} else if (lua_type(L, abs(arg)) == LUA_TSTRING) {
		lua_tolstring(L, abs(arg), &len);
		nflua_work(L, len / (arg < 0 ? NFLUA_WORK_SET : NFLUA_WORK_SLOW));
	}
	return fn(L);
}

static void nflua_charge_field(lua_State *L, int table, const char *name, int arg)
{
	table = lua_absindex(L, table);
	lua_getfield(L, table, name);
	lua_pushinteger(L, arg);
	lua_pushcclosure(L, nflua_charged, 2);
	lua_setfield(L, table, name);
}

/* print(...): one line in the kernel log, rate-limited, tagged with the state's name. */
static int nflua_print(lua_State *L)
{
	struct nflua_state *s = nflua_state_of(L);
	int i, n = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (i = 1; i <= n; i++) {
		luaL_tolstring(L, i, NULL);
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	pr_info_ratelimited("%s: %.200s\n", s->name, lua_tostring(L, -1));
	return 0;
}

/* nflua.send(data): queue a message for 'receive'; false when the queue is full. The replicas
 * of a per-CPU state share their head's queue. */
static int nflua_send(lua_State *L)
{
	struct nflua_state *s = nflua_state_of(L);
	size_t len;
	const char *data = luaL_checklstring(L, 1, &len);

	lua_pushboolean(L, nflua_channel_push(&s->head->chan, data, len));
	return 1;
}

static const luaL_Reg nflua_lib[] = {
	{ "send", nflua_send },
	{ NULL, NULL }
};

/* nflua.state is read from the state on each use: 'rename' changes it (under the state's lock,
 * which every Lua call holds). */
static int nflua_index(lua_State *L)
{
	const char *k = lua_tostring(L, 2);

	if (lua_type(L, 2) == LUA_TSTRING && strcmp(k, "state") == 0)
		lua_pushstring(L, nflua_state_of(L)->name);
	else if (lua_type(L, 2) == LUA_TSTRING && strcmp(k, "cpu") == 0 &&
		 nflua_state_of(L)->cpu >= 0)
		lua_pushinteger(L, nflua_state_of(L)->cpu);	/* the replica's CPU */
	else
		lua_pushnil(L);
	return 1;
}

static int luaopen_nflua(lua_State *L)
{
	luaL_newlib(L, nflua_lib);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, nflua_index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	return 1;
}

static const luaL_Reg nflua_loadedlibs[] = {
	{ LUA_GNAME, luaopen_base },
	{ LUA_COLIBNAME, luaopen_coroutine },
	{ LUA_TABLIBNAME, luaopen_table },
	{ LUA_STRLIBNAME, luaopen_string },
	{ LUA_UTF8LIBNAME, luaopen_utf8 },
	{ "nflua", luaopen_nflua },
	{ NULL, NULL }
};

static void nflua_unset(lua_State *L, int table, const char *name)
{
	table = lua_absindex(L, table);
	lua_pushnil(L);
	lua_setfield(L, table, name);
}

void nflua_openlibs(lua_State *L)
{
	const luaL_Reg *lib;

	for (lib = nflua_loadedlibs; lib->func; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L);
	nflua_unset(L, -1, "dofile");
	nflua_unset(L, -1, "loadfile");
	lua_getfield(L, -1, "load");
	lua_pushcclosure(L, nflua_load, 1);
	lua_setfield(L, -2, "load");
	lua_pushcfunction(L, nflua_print);
	lua_setfield(L, -2, "print");
	lua_getfield(L, -1, "setmetatable");
	lua_pushcclosure(L, nflua_setmetatable, 1);
	lua_setfield(L, -2, "setmetatable");
	nflua_charge_field(L, -1, "collectgarbage", 0);
	lua_getfield(L, -1, LUA_STRLIBNAME);
	nflua_unset(L, -1, "dump");	/* bytecode is never loaded, so never made */
	nflua_charge_field(L, -1, "find", 2);
	nflua_charge_field(L, -1, "match", 2);
	nflua_charge_field(L, -1, "gmatch", 2);
	nflua_charge_field(L, -1, "gsub", 2);
	nflua_charge_field(L, -1, "format", -1);
	nflua_charge_field(L, -1, "pack", -1);
	nflua_charge_field(L, -1, "packsize", -1);
	nflua_charge_field(L, -1, "unpack", -1);
	lua_pop(L, 2);
	nflua_state_of(L)->pkt = nflua_packet_openlib(L);
}
