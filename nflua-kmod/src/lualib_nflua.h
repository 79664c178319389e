/* SPDX-License-Identifier: GPL-2.0 */
/* The Lua environment of a state: which standard libraries exist, and the 'nflua' library. */
#ifndef _NFLUA_LUALIB_H
#define _NFLUA_LUALIB_H

struct lua_State;

/* Opens the libraries (in a protected call: may raise memory errors). */
void nflua_openlibs(struct lua_State *L);

#endif
