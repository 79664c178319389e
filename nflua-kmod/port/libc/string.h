/* SPDX-License-Identifier: MIT */
/* Lua includes <string.h>; see nflua_libc.h. */
#include "nflua_libc.h"
