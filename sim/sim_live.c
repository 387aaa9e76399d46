/* sim_live.c: dtcd-sim --live: the car on a real interface, in real time */
#include <errno.h>
#include <linux/can.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "sim.h"
#include "socketcan.h"
#include "tester.h"
#include "writer.h"

#define PENDING_NS (300 * 1000000LL)
#define MAX_LATER 16

enum { FD_DME, FD_OBD, FD_OBD_FUNCTIONAL, N_FDS };

struct later {
	int64_t at_ns;
	int fd;
	uint8_t data[32];
	size_t len;
};

struct live {
	struct sim *s;
	const struct sim_live_options *o;
	int raw, fd[N_FDS];
	int64_t t0_ns;
	unsigned busy_toggle;
	struct later later[MAX_LATER];
	size_t n_later;
	unsigned long answers;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int sink(void *ud, const struct writer_frame *f)
{
	struct live *l = ud;
	struct can_frame cf = { .can_id = f->id, .len = f->len };

	memcpy(cf.data, f->data, f->len);
	if (write(l->raw, &cf, sizeof(cf)) < 0 && errno != ENOBUFS &&
	    errno != ENETDOWN && errno != EAGAIN)
		return -errno;
	return 0;
}

static void answer(struct live *l, int fd_in, int64_t now)
{
	const struct sim_live_options *o = l->o;
	uint8_t req[4096], ans[32];
	bool uds = fd_in == l->fd[FD_DME];
	int out = uds ? l->fd[FD_DME] : l->fd[FD_OBD];
	ssize_t n = recv(fd_in, req, sizeof(req), MSG_DONTWAIT);
	size_t len;

	if (n <= 0)
		return;
	if (uds && o->mute_after_s > 0 &&
	    (double)(now - l->t0_ns) / 1e9 >= o->mute_after_s)
		return;
	len = bus_answer(sim_bus(l->s), sim_model(l->s), uds, req, (size_t)n,
			 ans);
	if (!len)
		return;
	for (size_t i = 0; uds && n == 3 && i < o->n_nrc; i++) {
		const uint8_t neg[3] = { 0x7F, 0x22, o->nrc[i].nrc };

		if (o->nrc[i].did != (req[1] << 8 | req[2]))
			continue;
		if (o->nrc[i].nrc == 0x21 && l->busy_toggle++ % 2)
			break; /* every other request is answered */
		if (o->nrc[i].nrc == 0x78 && l->n_later < MAX_LATER) {
			struct later *q = &l->later[l->n_later++];

			q->at_ns = now + PENDING_NS;
			q->fd = out;
			memcpy(q->data, ans, len);
			q->len = len;
		}
		memcpy(ans, neg, 3);
		len = 3;
		break;
	}
	if (write(out, ans, len) > 0)
		l->answers++;
}

static void wait_until(struct live *l, int64_t until)
{
	struct pollfd p[N_FDS];
	int64_t now;

	for (int i = 0; i < N_FDS; i++)
		p[i] = (struct pollfd){ .fd = l->fd[i], .events = POLLIN };
	while ((now = mono_ns()) < until) {
		int64_t wake = until;

		for (size_t i = 0; i < l->n_later;) {
			struct later *q = &l->later[i];

			if (q->at_ns <= now) {
				(void)!write(q->fd, q->data, q->len);
				*q = l->later[--l->n_later];
				continue;
			}
			if (q->at_ns < wake)
				wake = q->at_ns;
			i++;
		}
		if (poll(p, N_FDS, (int)((wake - now + 999999) / 1000000)) <= 0)
			continue;
		/* an error (the interface went down) is read, or poll()
		 * would say it again and again */
		for (int i = 0; i < N_FDS; i++)
			if (p[i].revents & (POLLIN | POLLERR))
				answer(l, p[i].fd, mono_ns());
	}
}

static int open_all(struct live *l, const char *ifname)
{
	/* the DME: 0x612 + F1 out, 0x6F1 + 12 in; its OBD side 7E8 / 7E0 */
	l->fd[FD_DME] = tester_socket_open(ifname, 0x612, 0x6F1, 0xF1, 0x12,
					   false, 0x55);
	if (l->fd[FD_DME] < 0)
		return l->fd[FD_DME];
	l->fd[FD_OBD] =
		tester_socket_open(ifname, 0x7E8, 0x7E0, -1, -1, false, 0x55);
	if (l->fd[FD_OBD] < 0)
		return l->fd[FD_OBD];
	/*
	 * Functional requests come in here; the answer leaves on the
	 * physical socket, so its flow control is expected on 0x7E0.
	 */
	l->fd[FD_OBD_FUNCTIONAL] =
		tester_socket_open(ifname, 0x7E8, 0x7DF, -1, -1, false, 0x55);
	return l->fd[FD_OBD_FUNCTIONAL] < 0 ? l->fd[FD_OBD_FUNCTIONAL] : 0;
}

int sim_live_run(struct sim *s, const struct sim_live_options *o)
{
	struct live l = { .s = s, .o = o, .raw = -1 };
	int r;

	for (int i = 0; i < N_FDS; i++)
		l.fd[i] = -1;
	r = open_all(&l, o->ifname);
	if (r == 0) {
		l.raw = socketcan_open(o->ifname);
		r = l.raw < 0 ? l.raw : 0;
	}
	if (r < 0) {
		fprintf(stderr, "dtcd-sim: %s: %s\n", o->ifname, strerror(-r));
		goto out;
	}
	writer_set_sink(sim_writer(s), sink, &l);
	l.t0_ns = mono_ns();
	while ((r = sim_step(s)) > 0) {
		int64_t at = l.t0_ns + (int64_t)(sim_model(s)->t * 1e9);

		/* the car parked for hours: the next cycle starts now */
		if (at - mono_ns() > 1000000000LL) {
			l.t0_ns -= at - mono_ns();
			at = mono_ns();
		}
		wait_until(&l, at);
	}
	fprintf(stderr, "dtcd-sim: %s: %llu frames, %lu answers\n", o->ifname,
		(unsigned long long)sim_frames(s), l.answers);
out:
	for (int i = 0; i < N_FDS; i++)
		if (l.fd[i] >= 0)
			close(l.fd[i]);
	if (l.raw >= 0)
		close(l.raw);
	return r;
}
