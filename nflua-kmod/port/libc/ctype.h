/* SPDX-License-Identifier: MIT */
/* Lua includes <ctype.h>; see nflua_libc.h. */
#include "nflua_libc.h"
