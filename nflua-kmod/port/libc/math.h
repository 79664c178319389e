/* SPDX-License-Identifier: MIT */
/* Lua includes <math.h>; see nflua_libc.h. */
#include "nflua_libc.h"
