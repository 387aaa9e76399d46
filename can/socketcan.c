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

int socketcan_filter(int fd, const struct socketcan_filter *filters, size_t n)
{
	struct can_filter cf[SOCKETCAN_MAX_FILTERS];

	if (n > SOCKETCAN_MAX_FILTERS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		const struct socketcan_filter *f = &filters[i];

		/* the EFF bit in the mask: an 11-bit rule never takes a
		 * 29-bit frame of the same number, nor the other way round */
		cf[i].can_id = f->eff ? (f->id & CAN_EFF_MASK) | CAN_EFF_FLAG :
					f->id & CAN_SFF_MASK;
		cf[i].can_mask = (f->eff ? f->mask & CAN_EFF_MASK :
					   f->mask & CAN_SFF_MASK) |
				 CAN_EFF_FLAG;
	}
	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, n ? cf : NULL,
		       (socklen_t)(n * sizeof(cf[0]))) < 0)
		return -errno;
	return 0;
}

int socketcan_filter_all(int fd)
{
	struct can_filter all = { .can_id = 0, .can_mask = 0 };

	if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, &all, sizeof(all)) < 0)
		return -errno;
	return 0;
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

/* one datagram of n bytes from the socket as a frame */
static int socketcan_frame(const struct canfd_frame *cf, ssize_t n,
			   const char *ifname, struct frame *f)
{
	if (n != CAN_MTU && n != CANFD_MTU)
		return -EBADMSG;
	if (cf->can_id & CAN_ERR_FLAG) {
		f->flags |= FRAME_ERR;
		f->id = cf->can_id & CAN_ERR_MASK;
	} else if (cf->can_id & CAN_EFF_FLAG) {
		f->flags |= FRAME_EFF;
		f->id = cf->can_id & CAN_EFF_MASK;
	} else {
		f->id = cf->can_id & CAN_SFF_MASK;
	}
	if (cf->can_id & CAN_RTR_FLAG)
		f->flags |= FRAME_RTR;
	if (n == CANFD_MTU) {
		f->flags |= FRAME_FD;
		if (cf->flags & CANFD_BRS)
			f->flags |= FRAME_BRS;
		if (cf->flags & CANFD_ESI)
			f->flags |= FRAME_ESI;
		f->len = cf->len > CANFD_MAX_DLEN ? CANFD_MAX_DLEN : cf->len;
	} else {
		const struct can_frame *cc = (const struct can_frame *)cf;

		f->len = cc->len > CAN_MAX_DLEN ? CAN_MAX_DLEN : cc->len;
		/* a DLC of 9..15 with 8 bytes, as candump's "_X" suffix */
		if (cc->len == CAN_MAX_DLEN && cc->len8_dlc > CAN_MAX_DLEN &&
		    cc->len8_dlc <= CAN_MAX_RAW_DLC)
			f->len8_dlc = cc->len8_dlc;
	}
	if (!(f->flags & FRAME_RTR))
		memcpy(f->data, cf->data, f->len);
	snprintf(f->iface, sizeof(f->iface), "%s", ifname);
	return 1;
}

#define CTRL_LEN \
	(CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)))

int socketcan_read(int fd, const char *ifname, struct frame *ret_frame,
		   uint32_t *ret_dropped)
{
	struct canfd_frame cf;
	struct iovec iov = { .iov_base = &cf, .iov_len = sizeof(cf) };
	char ctrl[CTRL_LEN];
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl,
		.msg_controllen = sizeof(ctrl),
	};
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	memset(ret_frame, 0, sizeof(*ret_frame));
	socketcan_control(&msg, ret_frame, ret_dropped);
	return socketcan_frame(&cf, n, ifname, ret_frame);
}

int socketcan_read_batch(int fd, const char *ifname, struct frame *frames,
			 size_t max, size_t *ret_n, uint32_t *ret_dropped)
{
	struct canfd_frame cf[SOCKETCAN_BATCH];
	struct iovec iov[SOCKETCAN_BATCH];
	char ctrl[SOCKETCAN_BATCH][CTRL_LEN];
	struct mmsghdr mm[SOCKETCAN_BATCH];
	size_t k = 0;
	int n;

	*ret_n = 0;
	if (max > SOCKETCAN_BATCH)
		max = SOCKETCAN_BATCH;
	for (size_t i = 0; i < max; i++) {
		iov[i] = (struct iovec){ .iov_base = &cf[i],
					 .iov_len = sizeof(cf[i]) };
		mm[i] = (struct mmsghdr){ .msg_hdr = {
						  .msg_iov = &iov[i],
						  .msg_iovlen = 1,
						  .msg_control = ctrl[i],
						  .msg_controllen = CTRL_LEN,
					  } };
	}
	n = recvmmsg(fd, mm, (unsigned)max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct frame *f = &frames[k];

		memset(f, 0, sizeof(*f));
		socketcan_control(&mm[i].msg_hdr, f, ret_dropped);
		/* a datagram of neither size is skipped, as read() says */
		if (socketcan_frame(&cf[i], (ssize_t)mm[i].msg_len, ifname, f) >
		    0)
			k++;
	}
	*ret_n = k;
	return n;
}
