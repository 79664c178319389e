/* SPDX-License-Identifier: GPL-2.0 */
/* /dev/nflua: the control device (docs/protocol.md). */
#ifndef _NFLUA_CONTROL_H
#define _NFLUA_CONTROL_H

int nflua_control_init(void);
void nflua_control_exit(void);

#endif
