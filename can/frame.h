/* frame.h: one CAN or CAN FD frame as read from a log or a socket */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX_DATA 64
#define FRAME_IFNAMSIZ 16

enum frame_flags {
	FRAME_EFF = 1 << 0, /* 29-bit identifier */
	FRAME_RTR = 1 << 1, /* remote transmission request */
	FRAME_ERR = 1 << 2, /* error frame (CAN_ERR_FLAG), id holds the class */
	FRAME_FD = 1 << 3,  /* CAN FD frame ("##") */
	FRAME_BRS = 1 << 4, /* FD: bit rate switch */
	FRAME_ESI = 1 << 5, /* FD: error state indicator */
};

/*
 * Time is the frame's own: nanoseconds as written in the log (or taken from
 * the socket), never the clock of the machine that replays it.
 */
struct frame {
	int64_t ts_ns;
	uint32_t id;	  /* without EFF/RTR/ERR flag bits */
	uint8_t flags;	  /* enum frame_flags */
	uint8_t len;	  /* payload bytes (RTR: the requested length) */
	uint8_t len8_dlc; /* classic CAN: raw DLC 9..15 from the "_" suffix,
			     else 0 */
	char dir;	  /* 0, or 'R'/'T' when the log says so */
	char iface[FRAME_IFNAMSIZ];
	uint8_t data[FRAME_MAX_DATA];
};

static inline double frame_ts_seconds(const struct frame *f)
{
	return (double)f->ts_ns / 1e9;
}
