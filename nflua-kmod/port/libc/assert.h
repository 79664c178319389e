/* SPDX-License-Identifier: MIT */
/* Lua includes <assert.h>; see nflua_libc.h. */
#include "nflua_libc.h"
