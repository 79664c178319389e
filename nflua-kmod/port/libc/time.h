/* SPDX-License-Identifier: MIT */
/* Lua includes <time.h>; see nflua_libc.h. */
#include "nflua_libc.h"
