/* SPDX-License-Identifier: MIT */
/* Lua includes <stdlib.h>; see nflua_libc.h. */
#include "nflua_libc.h"
