/* SPDX-License-Identifier: MIT */
/* Lua includes <stdint.h>; see nflua_libc.h. */
#include "nflua_libc.h"
