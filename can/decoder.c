/* decoder.c: DBC broadcasts, OBD-II and UDS answers into canonical signals */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbc.h"
#include "decoder.h"
#include "isotp.h"
#include "obd.h"
#include "uds.h"

#define STD_IDS 2048
#define OBD_MAX_PIDS 6 /* J1979: at most six PIDs in one request */

struct sig_bind {
	enum signal_id sig;
	const struct dbc_signal *signal;
};

/* the bound signals of one DBC message */
struct msg_bind {
	const struct dbc_message *msg;
	struct sig_bind *sigs;
	size_t n;
};

/* the bindings of one DID, in the profile's order */
struct did_group {
	uint16_t did;
	size_t first, n; /* in did_index */
};

/* what reads an 11-bit data frame (decoder.route) */
enum {
	ROUTE_DBC = 1 << 0,   /* std[id] is bound */
	ROUTE_ISOTP = 1 << 1, /* diagnostic addressing is possible */
};

struct obd_request {
	bool valid;
	uint8_t service;
	uint8_t pids[OBD_MAX_PIDS];
	size_t n;
};

struct decoder {
	const struct profile *p;
	struct dbc *dbc;
	struct signal_table *table;
	const struct decoder_ops *ops;
	void *userdata;
	struct isotp *tp;
	/* O(1) for 11-bit IDs; extended IDs are rare in a profile */
	struct msg_bind *std[STD_IDS];
	uint8_t route[STD_IDS];
	struct msg_bind *msgs;
	size_t n_msgs;
	/* an answer's DID finds its bindings without a scan of all */
	struct did_group *did_groups;
	size_t n_did_groups;
	size_t *did_index; /* into p->did */
	/* what the tester asked last, so a 7F answer can say which is gone */
	struct obd_request obd_req[8];
	struct obd_request obd_functional;
	bool did_requested[256];
	uint16_t did_request[256];
	/* the answer being decoded */
	int64_t ts_ns;
	uint32_t src;
	int mil_on, dtc_count;
};

static void emit(struct decoder *d, enum signal_id sig, bool valid,
		 double value)
{
	struct signal_slot *s = &d->table->slot[sig];

	s->ts_ns = d->ts_ns;
	s->valid = valid;
	s->value = valid ? value : 0;
	s->src = d->src;
	if (d->ops->signal)
		d->ops->signal(d->userdata, d->ts_ns, sig, s);
}

static void emit_text(struct decoder *d, enum signal_id sig, const uint8_t *b,
		      size_t len)
{
	struct signal_slot *s = &d->table->slot[sig];
	size_t n = 0;

	/* printable ASCII only; a VIN is padded with NULs or spaces at most */
	for (size_t i = 0; i < len && n < sizeof(s->text) - 1; i++) {
		if (b[i] == 0)
			break;
		s->text[n++] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '?';
	}
	while (n > 0 && s->text[n - 1] == ' ')
		n--;
	s->text[n] = '\0';
	s->ts_ns = d->ts_ns;
	s->valid = n > 0;
	s->value = 0;
	s->src = d->src;
	if (d->ops->signal)
		d->ops->signal(d->userdata, d->ts_ns, sig, s);
}

static void warn_unbound(struct decoder *d, const char *message,
			 const char *signal, unsigned line)
{
	char buf[512];

	if (!d->ops->warning)
		return;
	snprintf(buf, sizeof(buf),
		 "%s:%u: the DBC has no %s.%s; signal unbound", d->p->path,
		 line, message, signal);
	d->ops->warning(d->userdata, buf);
}

static struct msg_bind *msg_bind_get(struct decoder *d,
				     const struct dbc_message *m)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		if (d->msgs[i].msg == m)
			return &d->msgs[i];
	return NULL;
}

static int bind_dbc(struct decoder *d, char *errbuf, size_t errlen)
{
	const struct profile *p = d->p;
	int r;

	if (!p->dbc_path)
		return 0;
	r = dbc_load(&d->dbc, p->dbc_path, errbuf, errlen);
	if (r < 0)
		return r;
	/* at most one entry per binding: allocate for the worst case */
	d->msgs = calloc(p->n_dbc ? p->n_dbc : 1, sizeof(*d->msgs));
	if (!d->msgs)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_dbc; i++) {
		const struct profile_dbc_binding *b = &p->dbc[i];
		const struct dbc_message *m;
		const struct dbc_signal *s;
		struct msg_bind *mb;
		struct sig_bind *sigs;

		m = dbc_find_message_by_name(d->dbc, b->message);
		s = m ? dbc_message_find_signal(m, b->signal) : NULL;
		if (!s) {
			/* a profile may serve several DBC variants */
			warn_unbound(d, b->message, b->signal, b->line);
			continue;
		}
		mb = msg_bind_get(d, m);
		if (!mb) {
			mb = &d->msgs[d->n_msgs++];
			mb->msg = m;
		}
		sigs = realloc(mb->sigs, (mb->n + 1) * sizeof(*sigs));
		if (!sigs)
			return -ENOMEM;
		mb->sigs = sigs;
		mb->sigs[mb->n++] =
			(struct sig_bind){ .sig = b->sig, .signal = s };
	}
	for (size_t i = 0; i < d->n_msgs; i++) {
		const struct dbc_message *m = d->msgs[i].msg;

		if (!dbc_message_extended(m) && dbc_message_id(m) < STD_IDS) {
			d->std[dbc_message_id(m)] = &d->msgs[i];
			d->route[dbc_message_id(m)] |= ROUTE_DBC;
		}
	}
	return 0;
}

static struct did_group *did_group_get(const struct decoder *d, uint16_t did)
{
	for (size_t i = 0; i < d->n_did_groups; i++)
		if (d->did_groups[i].did == did)
			return &d->did_groups[i];
	return NULL;
}

/* the profile's DID bindings grouped by DID, each group in its order */
static int group_dids(struct decoder *d)
{
	const struct profile *p = d->p;
	size_t at = 0;

	if (!p->n_did)
		return 0;
	d->did_groups = calloc(p->n_did, sizeof(*d->did_groups));
	d->did_index = calloc(p->n_did, sizeof(*d->did_index));
	if (!d->did_groups || !d->did_index)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_did; i++) {
		struct did_group *g = did_group_get(d, p->did[i].did);

		if (!g) {
			g = &d->did_groups[d->n_did_groups++];
			g->did = p->did[i].did;
		}
		g->n++;
	}
	for (size_t i = 0; i < d->n_did_groups; i++) {
		d->did_groups[i].first = at;
		at += d->did_groups[i].n;
		d->did_groups[i].n = 0;
	}
	for (size_t i = 0; i < p->n_did; i++) {
		struct did_group *g = did_group_get(d, p->did[i].did);

		d->did_index[g->first + g->n++] = i;
	}
	return 0;
}

static void feed_msg(struct decoder *d, const struct msg_bind *mb,
		     const struct frame *f)
{
	double v;

	d->ts_ns = f->ts_ns;
	d->src = f->id;
	for (size_t i = 0; i < mb->n; i++) {
		/* a short frame or another multiplexor value: nothing to say */
		if (dbc_signal_decode(mb->sigs[i].signal, f->data, f->len,
				      &v) == 0)
			emit(d, mb->sigs[i].sig, true, v);
	}
}

/* what route[] does not cover: extended IDs (rare in a profile) */
static const struct msg_bind *msg_of(const struct decoder *d,
				     const struct frame *f)
{
	const struct msg_bind *mb = NULL;

	if (f->flags & (FRAME_RTR | FRAME_ERR))
		return NULL;
	if (!(f->flags & FRAME_EFF)) {
		if (f->id < STD_IDS)
			mb = d->std[f->id];
	} else {
		for (size_t i = 0; i < d->n_msgs; i++)
			if (dbc_message_extended(d->msgs[i].msg) &&
			    dbc_message_id(d->msgs[i].msg) == f->id)
				mb = &d->msgs[i];
	}
	return mb;
}

/* ---- OBD-II ---- */

static bool obd_ecu_accepted(const struct decoder *d, uint32_t id)
{
	if (d->p->n_obd_ecus == 0)
		return true;
	for (size_t i = 0; i < d->p->n_obd_ecus; i++)
		if (d->p->obd_ecus[i] == id)
			return true;
	return false;
}

static void obd_pid_value(void *userdata, uint8_t pid, unsigned field,
			  double value)
{
	struct decoder *d = userdata;
	const struct profile *p = d->p;

	if (pid == 0x01 && field == (unsigned)obd_pid_field(0x01, "mil_on"))
		d->mil_on = value != 0;
	if (pid == 0x01 && field == (unsigned)obd_pid_field(0x01, "dtc_count"))
		d->dtc_count = (int)value;
	for (size_t i = 0; i < p->n_obd; i++)
		if (p->obd[i].pid == pid && p->obd[i].field == (int)field)
			emit(d, p->obd[i].sig, true, value);
}

static void obd_dtc_list(void *userdata, uint8_t service, const uint16_t *codes,
			 size_t n)
{
	struct decoder *d = userdata;

	if (d->ops->ecu_codes)
		d->ops->ecu_codes(d->userdata, d->ts_ns, d->src, service, codes,
				  n);
}

static void obd_monitor(void *userdata, uint8_t mid, uint8_t tid, uint8_t uasid,
			double value, double min, double max)
{
	struct decoder *d = userdata;
	const struct profile *p = d->p;

	for (size_t i = 0; i < p->n_monitor; i++)
		if (p->monitor[i].mid == mid && p->monitor[i].tid == tid)
			emit(d, p->monitor[i].sig, true, value);
}

static const struct obd_request *obd_request_for(const struct decoder *d,
						 uint32_t answer_id)
{
	unsigned n = answer_id - 0x7E8;
	const struct obd_request *r = n < 8 ? &d->obd_req[n] : NULL;

	/* the newer of the physical and the functional request counts */
	if (r && r->valid)
		return r;
	return d->obd_functional.valid ? &d->obd_functional : NULL;
}

static void obd_negative(void *userdata, uint8_t service, uint8_t nrc)
{
	struct decoder *d = userdata;
	const struct obd_request *req = obd_request_for(d, d->src);
	const struct profile *p = d->p;

	/* "no value" for what was asked, never a zero value */
	if (!req || service != 0x01 || req->service != 0x01)
		return;
	for (size_t j = 0; j < req->n; j++)
		for (size_t i = 0; i < p->n_obd; i++)
			if (p->obd[i].pid == req->pids[j])
				emit(d, p->obd[i].sig, false, 0);
}

static const struct obd_ops obd_ops = {
	.pid_value = obd_pid_value,
	.dtc_list = obd_dtc_list,
	.monitor = obd_monitor,
	.negative = obd_negative,
};

static void obd_request(struct decoder *d, const struct isotp_message *m)
{
	struct obd_request *r;

	if (m->ecu == ISOTP_FUNCTIONAL)
		r = &d->obd_functional;
	else if (m->ecu < 8)
		r = &d->obd_req[m->ecu];
	else
		return;
	if (m->len < 1)
		return;
	*r = (struct obd_request){ .valid = true, .service = m->data[0] };
	for (size_t i = 1; i < m->len && r->n < OBD_MAX_PIDS; i++)
		r->pids[r->n++] = m->data[i];
	/* a physical request is newer than any functional one before it */
	if (m->ecu == ISOTP_FUNCTIONAL)
		for (size_t i = 0; i < 8; i++)
			d->obd_req[i].valid = false;
	else
		d->obd_functional.valid = false;
}

static void obd_answer(struct decoder *d, const struct isotp_message *m)
{
	if (!obd_ecu_accepted(d, m->can_id))
		return;
	d->mil_on = d->dtc_count = -1;
	if (obd_decode(m->data, m->len, &obd_ops, d) < 0)
		return;
	if ((d->mil_on >= 0 || d->dtc_count >= 0) && d->ops->ecu_status)
		d->ops->ecu_status(d->userdata, d->ts_ns, m->can_id, d->mil_on,
				   d->dtc_count);
}

/* ---- UDS ---- */

static void did_values(struct decoder *d, uint16_t did, const uint8_t *payload,
		       size_t len, bool negative)
{
	const struct profile *p = d->p;
	const struct did_group *g = did_group_get(d, did);

	for (size_t i = 0; g && i < g->n; i++) {
		const struct profile_did_binding *b =
			&p->did[d->did_index[g->first + i]];
		double v;
		int r;

		if (negative) {
			emit(d, b->sig, false, 0);
			continue;
		}
		if (b->offset + b->length > len)
			continue; /* short answer: that field has no value */
		switch (b->type) {
		case PROFILE_DID_TEXT:
			emit_text(d, b->sig, payload + b->offset, b->length);
			continue;
		case PROFILE_DID_BIT:
			v = (payload[b->offset] >> b->bit) & 1;
			r = 0;
			break;
		default:
			r = uds_field(payload, len, b->offset, b->length,
				      b->type == PROFILE_DID_SIGNED, b->scale,
				      b->add, &v);
			break;
		}
		if (r == 0)
			emit(d, b->sig, true, v);
	}
}

static void uds_message(struct decoder *d, const struct isotp_message *m)
{
	struct uds_response resp;
	uint16_t did;

	if (m->ecu != d->p->did_ecu)
		return;
	if (!m->response) {
		if (uds_parse_request(m->data, m->len, &did) >= 0) {
			d->did_requested[m->ecu] = true;
			d->did_request[m->ecu] = did;
		}
		return;
	}
	if (uds_parse_response(m->data, m->len, &resp) < 0)
		return;
	if (!resp.negative) {
		did_values(d, resp.did, resp.payload, resp.payload_len, false);
	} else if (resp.sid == 0x22 && d->did_requested[m->ecu]) {
		/* 0x78 "response pending": the real answer is still to come */
		if (resp.nrc != 0x78)
			did_values(d, d->did_request[m->ecu], NULL, 0, true);
	}
}

static void on_isotp(void *userdata, const struct isotp_message *m)
{
	struct decoder *d = userdata;

	d->ts_ns = m->ts_ns;
	d->src = m->can_id;
	if (m->extended_addr)
		uds_message(d, m);
	else if (m->response)
		obd_answer(d, m);
	else
		obd_request(d, m);
}

int decoder_new(struct decoder **ret, const struct profile *profile,
		struct signal_table *table, const struct decoder_ops *ops,
		void *userdata, char *errbuf, size_t errlen)
{
	static const struct decoder_ops no_ops;
	struct decoder *d;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->p = profile;
	d->table = table;
	d->ops = ops ? ops : &no_ops;
	d->userdata = userdata;
	r = bind_dbc(d, errbuf, errlen);
	if (r == 0)
		r = group_dids(d);
	if (r == 0 && (profile->n_obd || profile->n_monitor || profile->n_did))
		r = isotp_new(&d->tp, profile->isotp_timeout_ns, on_isotp, d);
	/* the only IDs that isotp_feed() takes */
	for (uint32_t id = 0x600; r == 0 && d->tp && id < 0x800; id++)
		d->route[id] |= ROUTE_ISOTP;
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(errbuf, errlen, "out of memory");
		decoder_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void decoder_free(struct decoder *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_msgs; i++)
		free(d->msgs[i].sigs);
	free(d->msgs);
	free(d->did_groups);
	free(d->did_index);
	isotp_free(d->tp);
	dbc_free(d->dbc);
	free(d);
}

void decoder_feed(struct decoder *d, const struct frame *f)
{
	const struct msg_bind *mb = NULL;

	/* 11-bit data frames, nearly all of a bus: one look-up for both */
	if (!(f->flags & (FRAME_EFF | FRAME_RTR | FRAME_ERR)) &&
	    f->id < STD_IDS) {
		uint8_t route = d->route[f->id];

		if ((route & ROUTE_ISOTP) && isotp_feed(d->tp, f))
			return;
		if (route & ROUTE_DBC)
			mb = d->std[f->id];
	} else {
		if (d->tp && isotp_feed(d->tp, f))
			return;
		if (d->n_msgs)
			mb = msg_of(d, f);
	}
	if (mb)
		feed_msg(d, mb, f);
}

size_t decoder_dbc_ids(const struct decoder *d, uint32_t *ids, bool *eff,
		       size_t max)
{
	for (size_t i = 0; i < d->n_msgs && i < max; i++) {
		ids[i] = dbc_message_id(d->msgs[i].msg);
		eff[i] = dbc_message_extended(d->msgs[i].msg);
	}
	return d->n_msgs;
}

bool decoder_reads_diagnostics(const struct decoder *d)
{
	return d->tp != NULL;
}
