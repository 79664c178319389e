/* SPDX-License-Identifier: MIT */
/* Lua includes <setjmp.h>; see nflua_libc.h. */
#include "nflua_libc.h"
