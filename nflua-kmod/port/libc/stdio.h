/* SPDX-License-Identifier: MIT */
/* Lua includes <stdio.h>; see nflua_libc.h. */
#include "nflua_libc.h"
