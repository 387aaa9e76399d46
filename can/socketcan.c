/* socketcan.c: raw CAN socket reading, as candump does it */
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "socketcan.h"

int socketcan_open(const char *ifname)
{
	struct sockaddr_can addr = { .can_family = AF_CAN };
	can_err_mask_t err_mask = CAN_ERR_MASK;
	int one = 1, fd, r;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0)
		return -errno;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	if (addr.can_ifindex == 0) {
		r = -ENODEV;
		goto out;
	}
	/* FD frames are welcome; a classic-only kernel just says no */
	(void)setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &one, sizeof(one));
	/* error frames too: a bus-off is part of the bus's story */
	(void)setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &err_mask,
			 sizeof(err_mask));
	/* frames lost to a full receive queue are counted, not silent */
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		goto out;
	}
	return fd;
out:
	close(fd);
	return r;
}

static void socketcan_control(struct msghdr *msg, struct frame *f,
			      uint32_t *ret_dropped)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			f->ts_ns =
				(int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		} else if (c->cmsg_type == SO_RXQ_OVFL && ret_dropped) {
			memcpy(ret_dropped, CMSG_DATA(c), sizeof(*ret_dropped));
		}
	}
}

int socketcan_read(int fd, const char *ifname, struct frame *ret_frame,
		   uint32_t *ret_dropped)
{
	struct canfd_frame cf;
	struct iovec iov = { .iov_base = &cf, .iov_len = sizeof(cf) };
	char ctrl[CMSG_SPACE(sizeof(struct timespec)) +
		  CMSG_SPACE(sizeof(uint32_t))];
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl,
		.msg_controllen = sizeof(ctrl),
	};
	struct frame *f = ret_frame;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n != CAN_MTU && n != CANFD_MTU)
		return -EBADMSG;
	memset(f, 0, sizeof(*f));
	socketcan_control(&msg, f, ret_dropped);
	if (cf.can_id & CAN_ERR_FLAG) {
		f->flags |= FRAME_ERR;
		f->id = cf.can_id & CAN_ERR_MASK;
	} else if (cf.can_id & CAN_EFF_FLAG) {
		f->flags |= FRAME_EFF;
		f->id = cf.can_id & CAN_EFF_MASK;
	} else {
		f->id = cf.can_id & CAN_SFF_MASK;
	}
	if (cf.can_id & CAN_RTR_FLAG)
		f->flags |= FRAME_RTR;
	if (n == CANFD_MTU) {
		f->flags |= FRAME_FD;
		if (cf.flags & CANFD_BRS)
			f->flags |= FRAME_BRS;
		if (cf.flags & CANFD_ESI)
			f->flags |= FRAME_ESI;
		f->len = cf.len > CANFD_MAX_DLEN ? CANFD_MAX_DLEN : cf.len;
	} else {
		const struct can_frame *cc = (const struct can_frame *)&cf;

		f->len = cc->len > CAN_MAX_DLEN ? CAN_MAX_DLEN : cc->len;
		/* a DLC of 9..15 with 8 bytes, as candump's "_X" suffix */
		if (cc->len == CAN_MAX_DLEN && cc->len8_dlc > CAN_MAX_DLEN &&
		    cc->len8_dlc <= CAN_MAX_RAW_DLC)
			f->len8_dlc = cc->len8_dlc;
	}
	if (!(f->flags & FRAME_RTR))
		memcpy(f->data, cf.data, f->len);
	snprintf(f->iface, sizeof(f->iface), "%s", ifname);
	return 1;
}
