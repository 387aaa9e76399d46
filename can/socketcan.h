/* socketcan.h: a raw CAN / CAN FD socket as a source of frames */
#pragma once

#include <stdint.h>

#include "frame.h"

/*
 * Opens and binds a raw socket on ifname (CAN FD frames and error frames
 * enabled, kernel receive timestamps and drop counting on). Returns the fd
 * or -errno: -ENODEV when there is no such interface. An interface that
 * exists but is down opens; the first read then says -ENETDOWN.
 */
int socketcan_open(const char *ifname);

/*
 * One frame from the socket, timestamped by the kernel (CLOCK_REALTIME, as
 * candump writes it). Returns 1, 0 when nothing is there, or -errno:
 * -ENETDOWN the interface went down (the socket stays bound and reads again
 * when it comes up), -ENODEV it is gone (open it anew), -EBADMSG a datagram
 * of neither CAN size (skipped). ret_dropped, if not NULL, gets the kernel's
 * count of frames dropped on this socket so far when it says one.
 */
int socketcan_read(int fd, const char *ifname, struct frame *ret_frame,
		   uint32_t *ret_dropped);
