/* socketcan.h: a raw CAN / CAN FD socket as a source of frames */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* CAN_RAW_FILTER_MAX is 512; more rules than this: no filter at all */
#define SOCKETCAN_MAX_FILTERS 256
/* datagrams per recvmmsg() */
#define SOCKETCAN_BATCH 64

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

/* One kernel receive rule: a frame passes when (id & mask) == (rule's id &
 * mask) and its kind (11 or 29 bit) is the rule's. */
struct socketcan_filter {
	uint32_t id, mask;
	bool eff;
};

/*
 * Sets the socket's receive filter (CAN_RAW_FILTER) to these n rules; error
 * frames pass by their own filter. Returns 0, -E2BIG for more than
 * SOCKETCAN_MAX_FILTERS, or -errno.
 */
int socketcan_filter(int fd, const struct socketcan_filter *filters, size_t n);
/* Every frame passes again (the kernel's default). 0 or -errno. */
int socketcan_filter_all(int fd);

/*
 * Up to max (at most SOCKETCAN_BATCH) frames with one recvmmsg(): returns
 * the datagrams read (0: none waiting) with the frames made of them in
 * frames[0 .. *ret_n) (datagrams of neither CAN size skipped), or -errno as
 * socketcan_read() when the first read fails (an error after some frames
 * comes with the next call).
 */
int socketcan_read_batch(int fd, const char *ifname, struct frame *frames,
			 size_t max, size_t *ret_n, uint32_t *ret_dropped);
