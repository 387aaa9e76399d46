/* isotp.c: passive ISO 15765-2 reassembly of the diagnostic traffic on a bus */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "isotp.h"
#include "timebase.h"

/* Protocol control information: the high nibble of the PCI byte */
enum {
	PCI_SF = 0,
	PCI_FF = 1,
	PCI_CF = 2,
	PCI_FC = 3,
};

enum {
	FC_CTS = 0,
	FC_WAIT = 1,
	FC_OVERFLOW = 2,
};

#define CLASSIC_LEN 8

/*
 * A channel is one direction of one conversation: the CAN ID plus, for
 * extended addressing, the address byte. Key 0 is a free slot (IDs are never
 * below 0x600 here, so a real key is never 0).
 */
struct isotp_rx {
	int64_t last_ns; /* frame time of the transfer's last frame */
	size_t len;	 /* FF_DL */
	size_t have;
	uint8_t next_sn;
	uint8_t buf[ISOTP_MAX_MESSAGE];
};

struct isotp {
	int64_t timeout_ns;
	isotp_message_fn cb;
	void *userdata;
	uint8_t testers[256 / 8]; /* bitmap of BMW tester addresses */
	/* keys apart from the buffers: a CF scans only these 128 bytes */
	uint32_t keys[ISOTP_MAX_TRANSFERS];
	/* keys in use: a single frame with none open scans nothing */
	unsigned n_open;
	struct isotp_rx rx[ISOTP_MAX_TRANSFERS];
};

/* What the addressing of one frame says, before its PCI is looked at */
struct isotp_addr {
	uint32_t key;
	uint32_t peer_key; /* the channel of the other direction, 0 if none */
	bool ext;
	bool response;
	uint8_t ecu;
	uint8_t tester;
};

int isotp_new(struct isotp **ret, int64_t timeout_ns, isotp_message_fn cb,
	      void *userdata)
{
	struct isotp *tp;

	if (!ret || !cb || timeout_ns <= 0)
		return -EINVAL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->timeout_ns = timeout_ns;
	tp->cb = cb;
	tp->userdata = userdata;
	isotp_add_tester(tp, 0xF1);
	*ret = tp;
	return 0;
}

void isotp_free(struct isotp *tp)
{
	free(tp);
}

void isotp_add_tester(struct isotp *tp, uint8_t addr)
{
	tp->testers[addr / 8] |= (uint8_t)(1u << (addr % 8));
}

static bool isotp_is_tester(const struct isotp *tp, uint8_t addr)
{
	return tp->testers[addr / 8] & (1u << (addr % 8));
}

static uint32_t isotp_key(uint32_t id, uint8_t addr)
{
	return id << 8 | addr;
}

/* Fills *a for a frame of diagnostic addressing; false for any other frame. */
static bool isotp_classify(const struct isotp *tp, const struct frame *f,
			   struct isotp_addr *a)
{
	uint32_t id = f->id;
	uint8_t lo = id & 0xFF;

	if (id >= 0x7DF && id <= 0x7EF) {
		a->ext = false;
		a->tester = 0;
		a->key = isotp_key(id, 0);
		if (id == 0x7DF) {
			/* functional requests are single frames: no peer */
			a->response = false;
			a->ecu = ISOTP_FUNCTIONAL;
			a->peer_key = 0;
		} else {
			a->response = id >= 0x7E8;
			a->ecu = id & 7;
			a->peer_key = isotp_key(id ^ 0x8, 0);
		}
		return true;
	}
	if ((id & ~0xFFu) != 0x600 || f->len < 2)
		return false;
	a->ext = true;
	if (isotp_is_tester(tp, lo)) {
		a->response = false;
		a->ecu = f->data[0];
		a->tester = lo;
	} else if (isotp_is_tester(tp, f->data[0])) {
		a->response = true;
		a->ecu = lo;
		a->tester = f->data[0];
	} else {
		return false;
	}
	a->key = isotp_key(id, f->data[0]);
	a->peer_key = isotp_key(0x600 | f->data[0], lo);
	return true;
}

static int isotp_find(const struct isotp *tp, uint32_t key)
{
	if (!tp->n_open)
		return -1;
	for (int i = 0; i < ISOTP_MAX_TRANSFERS; i++)
		if (tp->keys[i] == key)
			return i;
	return -1;
}

static void isotp_release(struct isotp *tp, int i)
{
	tp->keys[i] = 0;
	tp->n_open--;
}

static void isotp_drop(struct isotp *tp, uint32_t key)
{
	int i = isotp_find(tp, key);

	if (i >= 0)
		isotp_release(tp, i);
}

/* A slot for a new transfer: a free one, else the longest silent one. */
static int isotp_claim(struct isotp *tp, uint32_t key)
{
	int victim = 0;

	for (int i = 0; i < ISOTP_MAX_TRANSFERS; i++) {
		if (!tp->keys[i]) {
			victim = i;
			break;
		}
		if (tp->rx[i].last_ns < tp->rx[victim].last_ns)
			victim = i;
	}
	if (!tp->keys[victim])
		tp->n_open++;
	tp->keys[victim] = key;
	return victim;
}

static void isotp_deliver(struct isotp *tp, const struct frame *f,
			  const struct isotp_addr *a, const uint8_t *data,
			  size_t len)
{
	struct isotp_message msg = {
		.ts_ns = f->ts_ns,
		.can_id = f->id,
		.extended_addr = a->ext,
		.response = a->response,
		.ecu = a->ecu,
		.tester = a->tester,
		.data = data,
		.len = len,
	};

	tp->cb(tp->userdata, &msg);
}

static bool isotp_single(struct isotp *tp, const struct frame *f,
			 const struct isotp_addr *a, const uint8_t *p, size_t n)
{
	size_t sf_dl = p[0] & 0x0F, hdr = 1;

	if (sf_dl == 0) {
		/* the escape form exists only in CAN FD frames over 8 bytes */
		if (f->len <= CLASSIC_LEN || n < 2)
			return false;
		sf_dl = p[1];
		hdr = 2;
	}
	if (sf_dl == 0 || sf_dl > n - hdr)
		return false;
	/* a new message on the channel ends the one in progress */
	isotp_drop(tp, a->key);
	isotp_deliver(tp, f, a, p + hdr, sf_dl);
	return true;
}

static bool isotp_first(struct isotp *tp, const struct frame *f,
			const struct isotp_addr *a, const uint8_t *p, size_t n)
{
	size_t ff_dl, hdr = 2;
	struct isotp_rx *rx;

	/* a first frame always fills the whole CAN frame */
	if (f->len < CLASSIC_LEN)
		return false;
	ff_dl = (size_t)(p[0] & 0x0F) << 8 | p[1];
	if (ff_dl == 0) {
		/* escape sequence: a 32-bit FF_DL follows */
		ff_dl = (size_t)p[2] << 24 | (size_t)p[3] << 16 |
			(size_t)p[4] << 8 | p[5];
		hdr = 6;
	}
	/* what fits into the first frame itself is no multi-frame message */
	if (ff_dl <= n - hdr)
		return false;
	isotp_drop(tp, a->key);
	if (ff_dl > ISOTP_MAX_MESSAGE)
		return true; /* a valid frame of a message we cannot hold */
	rx = &tp->rx[isotp_claim(tp, a->key)];
	rx->len = ff_dl;
	rx->have = n - hdr;
	rx->next_sn = 1;
	rx->last_ns = f->ts_ns;
	memcpy(rx->buf, p + hdr, rx->have);
	return true;
}

static bool isotp_consecutive(struct isotp *tp, const struct frame *f,
			      const struct isotp_addr *a, const uint8_t *p,
			      size_t n)
{
	int i = isotp_find(tp, a->key);
	struct isotp_rx *rx;
	size_t take;

	if (i < 0)
		return true; /* no transfer (or a dropped one) on this channel
			      */
	rx = &tp->rx[i];
	/* saturated: a log's times may be anything (timebase.h) */
	if (timebase_sub(f->ts_ns, rx->last_ns) > tp->timeout_ns ||
	    (p[0] & 0x0F) != rx->next_sn || n < 2) {
		isotp_release(tp, i);
		return true;
	}
	take = n - 1;
	if (take > rx->len - rx->have)
		take = rx->len - rx->have; /* the rest is padding */
	memcpy(rx->buf + rx->have, p + 1, take);
	rx->have += take;
	rx->next_sn = (rx->next_sn + 1) & 0x0F;
	rx->last_ns = f->ts_ns;
	if (rx->have == rx->len) {
		/* freed after the callback: its data lives in rx->buf */
		isotp_deliver(tp, f, a, rx->buf, rx->len);
		if (tp->keys[i] == a->key)
			isotp_release(tp, i);
	}
	return true;
}

/* Flow control carries no data; it only tells how the peer's transfer goes. */
static bool isotp_flow_control(struct isotp *tp, const struct frame *f,
			       const struct isotp_addr *a, const uint8_t *p,
			       size_t n)
{
	uint8_t fs = p[0] & 0x0F;
	int i;

	if (fs > FC_OVERFLOW || n < 3)
		return false;
	if (!a->peer_key)
		return true;
	i = isotp_find(tp, a->peer_key);
	if (i < 0)
		return true;
	if (fs == FC_OVERFLOW)
		isotp_release(tp, i);
	else if (timebase_sub(f->ts_ns, tp->rx[i].last_ns) <= tp->timeout_ns)
		tp->rx[i].last_ns = f->ts_ns;
	return true;
}

bool isotp_feed(struct isotp *tp, const struct frame *f)
{
	struct isotp_addr a;
	const uint8_t *p;
	size_t n;

	/* the cheap test first: this runs for every frame on the bus */
	if ((f->id & ~0x1FFu) != 0x600 ||
	    (f->flags & (FRAME_EFF | FRAME_RTR | FRAME_ERR)))
		return false;
	if (f->len == 0 || !isotp_classify(tp, f, &a))
		return false;
	p = f->data + a.ext;
	n = f->len - a.ext;
	switch (p[0] >> 4) {
	case PCI_SF:
		return isotp_single(tp, f, &a, p, n);
	case PCI_FF:
		return isotp_first(tp, f, &a, p, n);
	case PCI_CF:
		return isotp_consecutive(tp, f, &a, p, n);
	case PCI_FC:
		return isotp_flow_control(tp, f, &a, p, n);
	default:
		return false;
	}
}
