/* tester.c: dtcd's CAN_ISOTP sockets; tester_send() is the only way out */
#include <errno.h>
#include <linux/can.h>
#include <linux/can/isotp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "poll_gate.h"
#include "tester.h"

#define PAD 0x55 /* ISO 15765-4 pads; 0x55 keeps bit stuffing low */
#define BMW_TESTER 0xF1

struct tsock {
	int fd;
	enum poll_target target; /* FUNCTIONAL: send only */
	uint8_t ecu;
};

struct tester {
	struct tsock s[TESTER_MAX_SOCKETS];
	size_t n;
};

int tester_socket_open(const char *ifname, uint32_t tx_id, uint32_t rx_id,
		       int tx_ext, int rx_ext, bool sf_broadcast, uint8_t pad)
{
	struct sockaddr_can addr = { .can_family = AF_CAN };
	struct can_isotp_options o = {
		.flags = CAN_ISOTP_TX_PADDING,
		.txpad_content = pad,
		.rxpad_content = pad,
	};
	int fd, r;

	fd = socket(PF_CAN, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    CAN_ISOTP);
	if (fd < 0)
		return -errno;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	if (addr.can_ifindex == 0) {
		r = -ENODEV;
		goto out;
	}
	if (tx_ext >= 0) {
		o.flags |= CAN_ISOTP_EXTEND_ADDR;
		o.ext_address = (uint8_t)tx_ext;
	}
	if (rx_ext >= 0) {
		o.flags |= CAN_ISOTP_RX_EXT_ADDR | CAN_ISOTP_EXTEND_ADDR;
		o.rx_ext_address = (uint8_t)rx_ext;
	}
	if (sf_broadcast)
		o.flags |= CAN_ISOTP_SF_BROADCAST;
	addr.can_addr.tp.tx_id = tx_id;
	addr.can_addr.tp.rx_id = rx_id;
	if (setsockopt(fd, SOL_CAN_ISOTP, CAN_ISOTP_OPTS, &o, sizeof(o)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		goto out;
	}
	return fd;
out:
	close(fd);
	return r;
}

static int add(struct tester *t, const char *ifname, enum poll_target target,
	       uint8_t ecu)
{
	int fd;

	for (size_t i = 0; i < t->n; i++)
		if (t->s[i].target == target && t->s[i].ecu == ecu)
			return 0;
	if (t->n == TESTER_MAX_SOCKETS)
		return -E2BIG;
	switch (target) {
	case POLL_OBD_FUNCTIONAL:
		/* send only: the ECUs' answers come on their sockets */
		fd = tester_socket_open(ifname, 0x7DF, 0x7E8, -1, -1, true,
					PAD);
		break;
	case POLL_OBD_PHYSICAL:
		fd = tester_socket_open(ifname, 0x7E0 + ecu, 0x7E8 + ecu, -1,
					-1, false, PAD);
		break;
	default:
		fd = tester_socket_open(ifname, 0x600 + BMW_TESTER, 0x600 + ecu,
					ecu, BMW_TESTER, false, PAD);
		break;
	}
	if (fd < 0)
		return fd;
	t->s[t->n++] = (struct tsock){ .fd = fd, .target = target, .ecu = ecu };
	return 0;
}

int tester_new(struct tester **ret, const char *ifname,
	       const struct poll_plan *plan)
{
	struct tester *t = calloc(1, sizeof(*t));
	int r = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < plan->n && r == 0; i++) {
		const struct poll_request *q = &plan->req[i];

		r = add(t, ifname, q->target, q->ecu);
		for (uint8_t n = 0;
		     r == 0 && q->target == POLL_OBD_FUNCTIONAL && n < 8; n++)
			r = add(t, ifname, POLL_OBD_PHYSICAL, n);
	}
	if (r < 0) {
		tester_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void tester_free(struct tester *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		close(t->s[i].fd);
	free(t);
}

int tester_send(struct tester *t, const struct poll_request *to,
		const uint8_t *data, size_t len)
{
	char why[256];
	ssize_t n;

	/* whatever asked for it: only reads leave */
	if (poll_gate_check(data, len, why, sizeof(why)) < 0)
		return -EPERM;
	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i].target != to->target || t->s[i].ecu != to->ecu)
			continue;
		n = write(t->s[i].fd, data, len);
		if (n < 0)
			return -errno;
		return n == (ssize_t)len ? 0 : -EIO;
	}
	return -ENOENT;
}

size_t tester_fds(const struct tester *t, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n && n < max; i++)
		if (t->s[i].target != POLL_OBD_FUNCTIONAL)
			fds[n++] = t->s[i].fd;
	return n;
}

int tester_read(struct tester *t, int fd, enum poll_target *ret_target,
		uint8_t *ret_ecu, uint8_t *buf, size_t len)
{
	ssize_t n;

	for (size_t i = 0; i < t->n; i++) {
		if (t->s[i].fd != fd)
			continue;
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		*ret_target = t->s[i].target;
		*ret_ecu = t->s[i].ecu;
		return (int)n;
	}
	return -EBADF;
}
