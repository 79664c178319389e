/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by libxt_lua.c (match "lua") and libxt_LUA.c (target "LUA"): name checks and the one
 * dump routine behind both print (prefix "") and save (prefix "--"), as libxt_set.h is shared
 * by libxt_set.c and libxt_SET.c. Everything is static; each .so gets its own copy.
 */
#ifndef _LIBXT_LUA_H
#define _LIBXT_LUA_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xtables.h>
#include <xt_lua.h>

/* Both options of both extensions share these ids, so one check routine serves both. */
enum {
	O_STATE = 0,
	O_FUNCTION,
	O_TCP_PAYLOAD,
	F_STATE		= 1 << O_STATE,
	F_FUNCTION	= 1 << O_FUNCTION,
	F_TCP_PAYLOAD	= 1 << O_TCP_PAYLOAD,
};

/* The Lua 5.4 reserved words (llex.c, luaX_tokens): none can name a global function. */
static const char *const lua_keywords[] = {
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
	"in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
};

/*
 * lua_quote - @s made safe for an error message: at most @max bytes of it, non-printable
 * bytes and '"', '\\' escaped, "..." appended when cut. @buf must hold 4 * @max + 4 bytes.
 */
static const char *lua_quote(char *buf, const char *s, size_t max)
{
	char *p = buf;
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			p += sprintf(p, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = c;
	}
	strcpy(p, s[i] != '\0' ? "..." : "");
	return buf;
}

/* lua_describe - a byte named for an error message: "a space", "'/'", "byte 0x09". */
static const char *lua_describe(char *buf, size_t size, unsigned char c)
{
	if (c == ' ')
		snprintf(buf, size, "a space");
	else if (c > 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

#define LUA_QUOTE_MAX	(XT_LUA_NAME_SIZE - 1)
#define LUA_QUOTE_BUF	(4 * LUA_QUOTE_MAX + 4)

/* lua_check_state - @name must be 1-63 bytes of 0x21-0x7e other than '/'. */
static void lua_check_state(const char *ext, const char *name)
{
	char q[LUA_QUOTE_BUF], d[16];
	size_t len = strlen(name), i;

	if (len == 0)
		xtables_error(PARAMETER_PROBLEM, "%s: --state: the state name is empty", ext);
	if (len >= XT_LUA_NAME_SIZE)
		xtables_error(PARAMETER_PROBLEM,
			      "%s: --state: state name \"%s\" is too long (%zu bytes, at most %d)",
			      ext, lua_quote(q, name, 32), len, XT_LUA_NAME_SIZE - 1);
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c <= 0x20 || c >= 0x7f || c == '/')
			xtables_error(PARAMETER_PROBLEM,
				      "%s: --state: state name \"%s\" has %s at position %zu; "
				      "use printable ASCII other than space and '/'",
				      ext, lua_quote(q, name, LUA_QUOTE_MAX),
				      lua_describe(d, sizeof(d), c), i + 1);
	}
}

static bool lua_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* lua_check_function - @name must be a Lua identifier of 1-63 characters, not a keyword. */
static void lua_check_function(const char *ext, const char *name)
{
	char q[LUA_QUOTE_BUF], d[16];
	size_t len = strlen(name), i;

	if (len == 0)
		xtables_error(PARAMETER_PROBLEM, "%s: --function: the function name is empty", ext);
	if (len >= XT_LUA_FUNC_SIZE)
		xtables_error(PARAMETER_PROBLEM,
			      "%s: --function: function name \"%s\" is too long "
			      "(%zu characters, at most %d)",
			      ext, lua_quote(q, name, 32), len, XT_LUA_FUNC_SIZE - 1);
	if (!lua_is_alpha(name[0]))
		xtables_error(PARAMETER_PROBLEM,
			      "%s: --function: \"%s\" is not a Lua identifier: it starts with %s; "
			      "start with a letter or '_'",
			      ext, lua_quote(q, name, LUA_QUOTE_MAX),
			      lua_describe(d, sizeof(d), name[0]));
	for (i = 1; i < len; i++) {
		unsigned char c = name[i];

		if (!lua_is_alpha(c) && !(c >= '0' && c <= '9'))
			xtables_error(PARAMETER_PROBLEM,
				      "%s: --function: \"%s\" is not a Lua identifier: %s at "
				      "position %zu; use letters, digits and '_'",
				      ext, lua_quote(q, name, LUA_QUOTE_MAX),
				      lua_describe(d, sizeof(d), c), i + 1);
	}
	for (i = 0; i < sizeof(lua_keywords) / sizeof(lua_keywords[0]); i++)
		if (strcmp(name, lua_keywords[i]) == 0)
			xtables_error(PARAMETER_PROBLEM,
				      "%s: --function: \"%s\" is a Lua keyword, not a function name",
				      ext, name);
}

/* lua_parse - the table did the storing (XTOPT_PUT); check the whole argument. */
static void lua_parse(struct xt_option_call *cb)
{
	xtables_option_parse(cb);
	switch (cb->entry->id) {
	case O_STATE:
		lua_check_state(cb->ext_name, cb->arg);
		break;
	case O_FUNCTION:
		lua_check_function(cb->ext_name, cb->arg);
		break;
	}
}

/*
 * lua_require_state - ask /dev/nflua (docs/protocol.md: "stats NAME") whether the state exists
 * in this network namespace, so that a rule naming a missing state is refused with a message
 * instead of the kernel's bare ENOENT. Anything unexpected (no permission, an odd reply) leaves
 * the decision to the kernel, which checks again.
 */
static void lua_require_state(const char *ext, const char *name)
{
	char req[16 + XT_LUA_NAME_SIZE], hdr[32];
	size_t n = 0;
	int fd, len;

	fd = open("/dev/nflua", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* The node may just not be visible here (a mount namespace with its own /dev):
		 * only when sysfs says the module is not loaded is the state surely missing. */
		if (errno == ENOENT && access("/sys/module", F_OK) == 0 &&
		    access("/sys/module/nflua", F_OK) != 0)
			xtables_error(PARAMETER_PROBLEM, "%s: the nflua module is not loaded: load it "
				      "(modprobe nflua) and create state \"%s\" first", ext, name);
		return;
	}
	len = snprintf(req, sizeof(req), "stats %zu\n%s", strlen(name), name);
	if (len > 0 && write(fd, req, len) == len) {
		/* the reply header, byte by byte: the device never returns two replies at once */
		while (n < sizeof(hdr) - 1 && read(fd, hdr + n, 1) == 1 && hdr[n] != '\n')
			n++;
	}
	close(fd);
	hdr[n] = '\0';
	if (strtol(hdr, NULL, 10) == ENOENT)
		xtables_error(PARAMETER_PROBLEM, "%s: no state named \"%s\" in this network namespace "
			      "(create it first: nfluactl create %s)", ext, name, name);
}

/* lua_fcheck - one message naming every missing option (XTOPT_MAND is the backstop), then
 * whether the state exists. */
static void lua_fcheck(struct xt_fcheck_call *cb)
{
	const char *example = strcmp(cb->ext_name, "lua") == 0 ?
		"-m lua --state web --function check_ua" : "-j LUA --state web --function verdict";
	const struct xt_lua_info *info = cb->data;

	if ((cb->xflags & (F_STATE | F_FUNCTION)) == (F_STATE | F_FUNCTION)) {
		lua_require_state(cb->ext_name, info->state);
		return;
	}
	xtables_error(PARAMETER_PROBLEM, "%s: missing %s (both --state and --function are required, "
		      "e.g. %s)", cb->ext_name,
		      !(cb->xflags & (F_STATE | F_FUNCTION)) ? "--state and --function" :
		      !(cb->xflags & F_STATE) ? "--state" : "--function", example);
}

/*
 * lua_dump - the options of @info, for print (@prefix "") and save (@prefix "--"). Names are
 * copied out bounded (the kernel's copy is trusted to be terminated, but a dump must never read
 * past the field) and written with xtables_save_string, which quotes and escapes exactly what
 * iptables-restore's tokenizer undoes.
 */
static void lua_dump(const struct xt_lua_info *info, const char *prefix)
{
	char state[XT_LUA_NAME_SIZE], function[XT_LUA_FUNC_SIZE];

	snprintf(state, sizeof(state), "%.*s", (int)sizeof(info->state) - 1, info->state);
	snprintf(function, sizeof(function), "%.*s", (int)sizeof(info->function) - 1,
		 info->function);
	printf(" %sstate", prefix);
	xtables_save_string(state);
	printf("%s %sfunction", info->flags & XT_LUA_INVERT ? " !" : "", prefix);
	xtables_save_string(function);
	if (info->flags & XT_LUA_TCP_PAYLOAD)
		printf(" %stcp-payload", prefix);
}

#endif /* _LIBXT_LUA_H */
