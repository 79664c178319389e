/* SPDX-License-Identifier: MIT */
/* <stdarg.h>: the kernel's (linux/stdarg.h since 5.15) or the compiler's. Kernel headers
 * include this too (5.10's linux/kernel.h), so it must not pull in anything else. */
#if __has_include(<linux/stdarg.h>)
#include <linux/stdarg.h>
#else
#include_next <stdarg.h>
#endif
