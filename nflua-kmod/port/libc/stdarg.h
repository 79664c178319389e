/* SPDX-License-Identifier: MIT */
/* Lua includes <stdarg.h>: the compiler's own (the kernel's linux/stdarg.h, where it exists). */
#if __has_include(<linux/stdarg.h>)
#include <linux/stdarg.h>
#else
#include_next <stdarg.h>
#endif
#include "nflua_libc.h"
