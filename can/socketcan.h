/* socketcan.h: a raw CAN / CAN FD socket as a source of frames */
#pragma once

#include "frame.h"

/* Opens and binds a raw socket on ifname (CAN FD frames enabled,
 * kernel receive timestamps on). Returns the fd or -errno. */
int socketcan_open(const char *ifname);

/* One frame from the socket, timestamped by the kernel. Returns 1, 0 when
 * nothing is there (EAGAIN), or -errno. */
int socketcan_read(int fd, const char *ifname, struct frame *ret_frame);
