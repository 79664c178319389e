/* SPDX-License-Identifier: MIT */
/* Lua includes <float.h>; see nflua_libc.h. */
#include "nflua_libc.h"
