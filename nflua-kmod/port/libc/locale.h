/* SPDX-License-Identifier: MIT */
/* Lua includes <locale.h>; see nflua_libc.h. */
#include "nflua_libc.h"
