/* SPDX-License-Identifier: GPL-2.0 */
/* The xtables match and target (xt_lua.c). */
#ifndef _NFLUA_XT_LUA_GLUE_H
#define _NFLUA_XT_LUA_GLUE_H

int nflua_xt_init(void);
void nflua_xt_exit(void);

#endif
