/* SPDX-License-Identifier: MIT */
/* Lua includes <errno.h>; see nflua_libc.h. */
#include "nflua_libc.h"
