/* SPDX-License-Identifier: MIT */
/* Lua includes <limits.h>; see nflua_libc.h. */
#include "nflua_libc.h"
