/* SPDX-License-Identifier: MIT */
/* Lua includes <stddef.h>; see nflua_libc.h. */
#include "nflua_libc.h"
