/* SPDX-License-Identifier: MIT */
/* Lua includes <signal.h>; see nflua_libc.h. */
#include "nflua_libc.h"
