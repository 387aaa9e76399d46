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
	int one = 1, fd, r;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (fd < 0)
		return -errno;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	if (addr.can_ifindex == 0)
		goto fail;
	/* FD frames are welcome; a classic-only kernel just says no */
	(void)setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &one, sizeof(one));
	/* error frames too: a bus-off is worth a log line */
	can_err_mask_t err_mask = CAN_ERR_MASK;
	(void)setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &err_mask,
			 sizeof(err_mask));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

int socketcan_read(int fd, const char *ifname, struct frame *ret_frame)
{
	struct canfd_frame cf;
	struct iovec iov = { .iov_base = &cf, .iov_len = sizeof(cf) };
	char ctrl[CMSG_SPACE(sizeof(struct timespec))];
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
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			f->ts_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		}
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
	}
	f->len = cf.len > FRAME_MAX_DATA ? FRAME_MAX_DATA : cf.len;
	if (!(f->flags & FRAME_RTR))
		memcpy(f->data, cf.data, f->len);
	snprintf(f->iface, sizeof(f->iface), "%s", ifname);
	return 1;
}
