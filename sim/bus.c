/* bus.c: the reference vehicle's frames: broadcasts, OBD-II and UDS testers */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "rng.h"
#include "signal.h"

#define STEP_US 10000
#define UDS_TESTER 0x6F1
#define UDS_DME 0x612
#define UDS_DME_ADDR 0x12
#define UDS_TESTER_ADDR 0xF1
#define OBD_FUNCTIONAL 0x7DF
#define OBD_DME_REQ 0x7E0
#define OBD_DME 0x7E8

enum did_index {
	DID_VIN,
	DID_MISFIRE,
	DID_VANOS,
	DID_EMERGENCY,
	DID_HEATER,
	DID_BATTERY,
	DID_TURBO,
	DID_EGR,
	DID__MAX,
};

static const struct {
	uint16_t did;
	unsigned period_steps; /* 0 = once per wake-up */
} dids[DID__MAX] = {
	[DID_VIN] = { 0xF190, 0 },	[DID_MISFIRE] = { 0x5A10, 100 },
	[DID_VANOS] = { 0x5A20, 20 },	[DID_EMERGENCY] = { 0x5A21, 100 },
	[DID_HEATER] = { 0x5A30, 100 }, [DID_BATTERY] = { 0x5A31, 100 },
	[DID_TURBO] = { 0x5A40, 100 },	[DID_EGR] = { 0x5A50, 100 },
};

/* The OBD tester's round: mode, PID/MID */
static const uint8_t obd_round[][2] = {
	{ 0x01, 0x0C }, { 0x01, 0x05 }, { 0x01, 0x01 }, { 0x01, 0x0D },
	{ 0x01, 0x0C }, { 0x01, 0x1F }, { 0x01, 0x2C }, { 0x01, 0x42 },
	{ 0x01, 0x0C }, { 0x01, 0x46 }, { 0x01, 0x5C }, { 0x01, 0x6B },
	{ 0x06, 0xA2 }, { 0x06, 0xA3 }, { 0x06, 0xA4 }, { 0x06, 0xA5 },
	{ 0x06, 0xA6 }, { 0x06, 0xA7 }, { 0x03, 0x00 },
};
#define OBD_ROUND (sizeof(obd_round) / sizeof(*obd_round))

struct bus {
	const struct scenario *sc;
	struct writer *w;
	struct rng rng;
	uint64_t step; /* since the bus woke up */
	uint8_t ctr_0aa, ctr_0a9, ctr_1d0, ctr_130, ctr_other;
	int64_t uds_busy_until, obd_busy_until;
	uint64_t did_due[DID__MAX]; /* step; UINT64_MAX = done */
	unsigned obd_next;
	uint64_t obd_due;
	double steer_deg;
};

/* A message that may need ISO-TP segmentation, and what it means */
struct tx {
	uint32_t id;
	int ext;	/* extended address byte, or -1 */
	uint32_t fc_id; /* who sends flow control */
	int fc_ext;
	uint8_t pad, fc_pad;
	uint8_t payload[32];
	unsigned len;
	struct writer_frame truth; /* only n_truth and truth[] used */
};

uint8_t bus_checksum8(uint32_t id, const uint8_t *data, unsigned len)
{
	unsigned sum = id;

	for (unsigned i = 0; i < len; i++)
		sum += data[i];
	sum = (sum & 0xFF) + (sum >> 8);
	return (uint8_t)(sum & 0xFF);
}

uint8_t bus_checksum4(uint32_t id, const uint8_t *data, unsigned len)
{
	unsigned sum = bus_checksum8(id, data, len);

	sum = (sum & 0xF) + (sum >> 4);
	return (uint8_t)(sum & 0xF);
}

int bus_new(struct bus **ret, const struct scenario *sc, uint64_t seed,
	    struct writer *w)
{
	struct bus *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->sc = sc;
	b->w = w;
	rng_seed(&b->rng, seed, 2);
	bus_sleep(b);
	*ret = b;
	return 0;
}

void bus_free(struct bus *b)
{
	free(b);
}

void bus_sleep(struct bus *b)
{
	b->step = 0;
	b->uds_busy_until = b->obd_busy_until = 0;
	/* the tester connects 0.3 s after wake-up, asks the VIN first */
	for (int i = 0; i < DID__MAX; i++)
		b->did_due[i] = 30 + (unsigned)i;
	b->obd_next = 0;
	b->obd_due = 0;
}

static int64_t rnd_us(struct bus *b, unsigned lo, unsigned hi)
{
	return lo + (int64_t)(rng_next(&b->rng) % (hi - lo + 1));
}

static void truth(struct writer_frame *f, enum signal_id sig, double v)
{
	if (f->n_truth < WRITER_MAX_TRUTH) {
		f->truth[f->n_truth].sig = (int16_t)sig;
		f->truth[f->n_truth].value = v;
		f->n_truth++;
	}
}

static long iround(double v, long lo, long hi)
{
	long r = lround(v);

	return r < lo ? lo : r > hi ? hi : r;
}

/* Intel (little-endian) bit field into an 8-byte frame */
static void put_le(uint8_t *d, unsigned start, unsigned len, uint64_t raw)
{
	uint64_t v = 0, mask = (len == 64 ? ~0ULL : ((1ULL << len) - 1));

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | d[i];
	v = (v & ~(mask << start)) | ((raw & mask) << start);
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static void frame_init(struct writer_frame *f, int64_t ts, uint32_t id,
		       uint8_t len)
{
	f->ts_us = ts;
	f->id = id;
	f->len = len;
	f->n_truth = 0;
	memset(f->data, 0, sizeof(f->data));
}

static int push_0aa(struct bus *b, const struct model *m, int64_t ts)
{
	struct writer_frame f;
	bool running = m->run_state == 2;

	frame_init(&f, ts, 0x0AA, 8);
	f.data[1] = (uint8_t)(0xF0 | b->ctr_0aa);
	put_le(f.data, 16, 16, (uint64_t)iround(m->pedal_pct / 0.04, 0, 2500));
	put_le(f.data, 32, 16, (uint64_t)iround(m->rpm / 0.25, 0, 32000));
	/* ThrottlelActive, AcceleratorPedalPressed as in real E9x traffic */
	f.data[6] = running ? (uint8_t)(0x84 | (m->pedal_pct > 0 ? 0x10 : 0)) :
			      0xF4;
	f.data[0] = bus_checksum8(0x0AA, f.data, 8);
	b->ctr_0aa = (uint8_t)((b->ctr_0aa + 1) % 15);
	truth(&f, SIG_ENGINE_SPEED_RPM, m->rpm);
	return writer_push(b->w, &f);
}

static int push_0a9(struct bus *b, const struct model *m, int64_t ts)
{
	struct writer_frame f;

	frame_init(&f, ts, 0x0A9, 8);
	f.data[1] = b->ctr_0a9;
	put_le(f.data, 16, 12, (uint64_t)iround(-40 / 0.5, -2048, 2047));
	put_le(f.data, 28, 12,
	       (uint64_t)iround(m->torque_max_nm / 0.5, -2048, 2047));
	put_le(f.data, 40, 12, (uint64_t)iround(-20 / 0.5, -2048, 2047));
	put_le(f.data, 52, 12, (uint64_t)iround(30 / 0.5, -2048, 2047));
	f.data[0] = bus_checksum8(0x0A9, f.data, 8);
	b->ctr_0a9 = (uint8_t)((b->ctr_0a9 + 1) % 15);
	truth(&f, SIG_TORQUE_MAX_AVAILABLE_NM, m->torque_max_nm);
	return writer_push(b->w, &f);
}

static int push_1d0(struct bus *b, const struct model *m, int64_t ts)
{
	struct writer_frame f;

	frame_init(&f, ts, 0x1D0, 8);
	f.data[0] = (uint8_t)iround(m->coolant_c + 48, 0, 255);
	f.data[1] = (uint8_t)iround(m->oil_c + 48, 0, 255);
	f.data[2] = (uint8_t)(b->ctr_1d0 | (m->run_state << 4));
	f.data[3] = (uint8_t)iround((995.0 - 598) / 2, 0, 255); /* hPa */
	put_le(f.data, 32, 16, (uint64_t)iround(m->fuel_c + 48, 0, 65535));
	f.data[6] = 0x0D; /* CTR_SLCK and unused bits as recorded */
	f.data[7] = (uint8_t)iround(
		m->run_state == 2 ?
			(720 +
			 230 * fmax(0, fmin(1, (60 - m->coolant_c) / 70))) /
				5 :
			0,
		0, 255);
	b->ctr_1d0 = (uint8_t)((b->ctr_1d0 + 1) % 15);
	truth(&f, SIG_COOLANT_TEMP_C, m->coolant_c);
	truth(&f, SIG_OIL_TEMP_C, m->oil_c);
	truth(&f, SIG_ENGINE_RUN_STATE, m->run_state);
	return writer_push(b->w, &f);
}

static int push_130(struct bus *b, const struct model *m, int64_t ts)
{
	struct writer_frame f;
	uint8_t d0;

	frame_init(&f, ts, 0x130, 5);
	switch (m->phase) {
	case MODEL_KEY:
		d0 = 0x41; /* KL_R, key valid */
		break;
	case MODEL_CRANKING:
		d0 = 0x55; /* KL_R, KL_15, KL_50 */
		break;
	case MODEL_AFTER:
		d0 = 0x00;
		break;
	default:
		d0 = 0x45; /* KL_R, KL_15, key valid */
		break;
	}
	f.data[0] = d0;
	f.data[1] = 0x40;
	f.data[2] = m->ignition ? 0x80 : 0x40; /* AccOn / IgnitionOff */
	f.data[3] = m->ignition ? 0x4F : 0x0F; /* ST_KL15_HW */
	f.data[4] = b->ctr_130;
	f.data[4] |= (uint8_t)(bus_checksum4(0x130, f.data, 5) << 4);
	b->ctr_130 = (uint8_t)((b->ctr_130 + 1) % 15);
	truth(&f, SIG_IGNITION_ON, m->ignition ? 1 : 0);
	return writer_push(b->w, &f);
}

static int push_3b4(struct bus *b, const struct model *m, int64_t ts)
{
	struct writer_frame f;
	long raw = iround(m->battery_v / 0.015, 0, 4095);

	frame_init(&f, ts, 0x3B4, 8);
	f.data[0] = (uint8_t)(raw & 0xFF);
	f.data[1] = (uint8_t)(0xF0 | (raw >> 8));
	f.data[3] = 0xFC;
	memset(f.data + 4, 0xFF, 4);
	truth(&f, SIG_BATTERY_VOLTAGE_V, m->battery_v);
	return writer_push(b->w, &f);
}

/* Traffic of ECUs dtcd does not care about */
static int push_others(struct bus *b, const struct model *m, int64_t ts)
{
	struct writer_frame f;
	int r = 0;
	long a;

	if (b->step % 2 == 0) { /* steering angle, 50 Hz */
		b->steer_deg = 0.995 * b->steer_deg + rng_gauss(&b->rng) * 0.8;
		a = iround(b->steer_deg / 0.04395, -32768, 32767);
		frame_init(&f, ts + 1100, 0x0C4, 7);
		f.data[0] = (uint8_t)(a & 0xFF);
		f.data[1] = (uint8_t)((a >> 8) & 0xFF);
		f.data[2] = 0xFD;
		f.data[5] = 0xFF;
		f.data[6] = (uint8_t)(0xF0 | b->ctr_other);
		r |= writer_push(b->w, &f);
	}
	if (b->step % 20 == 5) { /* DSC status, 5 Hz */
		frame_init(&f, ts + 4200, 0x19E, 8);
		f.data[1] = 0xEA;
		f.data[2] = (uint8_t)(0xE0 | b->ctr_other);
		f.data[3] = 0xFC;
		f.data[4] = 0xFE;
		f.data[5] = (uint8_t)iround(m->speed_kmh, 0, 255);
		f.data[7] = bus_checksum8(0x19E, f.data, 8);
		r |= writer_push(b->w, &f);
	}
	if (b->step % 100 == 77) { /* outside temperature, 1 Hz */
		frame_init(&f, ts + 6300, 0x2CA, 2);
		f.data[0] = (uint8_t)iround((m->ambient_c + 40) * 2, 0, 255);
		f.data[1] = 0xFF;
		r |= writer_push(b->w, &f);
	}
	if (b->step % 100 == 91) { /* network management of the gateway */
		frame_init(&f, ts + 8800, 0x4E0, 8);
		f.data[0] = 0x40;
		f.data[1] = 0x01;
		memset(f.data + 2, 0xFF, 6);
		r |= writer_push(b->w, &f);
	}
	if (b->step % 2 == 0)
		b->ctr_other = (uint8_t)((b->ctr_other + 1) % 15);
	return r;
}

/*
 * Sends tx from t: single frame, or first frame, flow control from the
 * receiver and consecutive frames (ISO 15765-2). Returns the time of the
 * last frame; the truth rides on it.
 */
static int64_t send_isotp(struct bus *b, const struct tx *tx, int64_t t,
			  int *ret_err)
{
	struct writer_frame f;
	unsigned off = tx->ext >= 0 ? 1 : 0, room = 7 - off, pos, sn = 1;
	int r = 0;

	frame_init(&f, t, tx->id, 8);
	memset(f.data, tx->pad, 8);
	if (off)
		f.data[0] = (uint8_t)tx->ext;
	if (tx->len <= room) {
		f.data[off] = (uint8_t)tx->len;
		memcpy(f.data + off + 1, tx->payload, tx->len);
		f.n_truth = tx->truth.n_truth;
		memcpy(f.truth, tx->truth.truth, sizeof(f.truth));
		*ret_err |= writer_push(b->w, &f);
		return t;
	}
	f.data[off] = (uint8_t)(0x10 | (tx->len >> 8));
	f.data[off + 1] = (uint8_t)(tx->len & 0xFF);
	pos = room - 1;
	memcpy(f.data + off + 2, tx->payload, pos);
	r |= writer_push(b->w, &f);

	/* flow control: continue, no block limit, no separation time */
	t += rnd_us(b, 800, 2000);
	frame_init(&f, t, tx->fc_id, 8);
	memset(f.data, tx->fc_pad, 8);
	if (tx->fc_ext >= 0)
		f.data[0] = (uint8_t)tx->fc_ext;
	f.data[tx->fc_ext >= 0 ? 1 : 0] = 0x30;
	f.data[tx->fc_ext >= 0 ? 2 : 1] = 0x00;
	f.data[tx->fc_ext >= 0 ? 3 : 2] = 0x00;
	r |= writer_push(b->w, &f);

	while (pos < tx->len) {
		unsigned n = tx->len - pos < room ? tx->len - pos : room;

		t += rnd_us(b, 300, 900);
		frame_init(&f, t, tx->id, 8);
		memset(f.data, tx->pad, 8);
		if (off)
			f.data[0] = (uint8_t)tx->ext;
		f.data[off] = (uint8_t)(0x20 | (sn++ & 0xF));
		memcpy(f.data + off + 1, tx->payload + pos, n);
		pos += n;
		if (pos >= tx->len) {
			f.n_truth = tx->truth.n_truth;
			memcpy(f.truth, tx->truth.truth, sizeof(f.truth));
		}
		r |= writer_push(b->w, &f);
	}
	*ret_err |= r;
	return t;
}

static void be16(uint8_t *p, long v)
{
	p[0] = (uint8_t)((v >> 8) & 0xFF);
	p[1] = (uint8_t)(v & 0xFF);
}

static bool did_unknown(const struct scenario *sc, uint16_t did)
{
	for (unsigned i = 0; i < sc->n_unknown_dids; i++)
		if (sc->unknown_did[i] == did)
			return true;
	return false;
}

/* The DME's positive answer to 22 DID: 62 DID data */
static void did_answer(const struct model *m, enum did_index i, struct tx *tx)
{
	uint8_t *d = tx->payload + 3;
	struct writer_frame *t = &tx->truth;
	double v;

	tx->payload[0] = 0x62;
	be16(tx->payload + 1, dids[i].did);
	switch (i) {
	case DID_VIN:
		memcpy(d, m->sc->vin, 17);
		tx->len = 3 + 17;
		break;
	case DID_MISFIRE:
		for (int c = 0; c < MODEL_CYLINDERS; c++) {
			be16(d + 2 * c, (long)m->misfires[c]);
			truth(t, (enum signal_id)(SIG_MISFIRE_COUNT_CYL_1 + c),
			      m->misfires[c]);
		}
		tx->len = 3 + 12;
		break;
	case DID_VANOS:
		be16(d, iround(m->vanos_in_target * 10, -32768, 32767));
		be16(d + 2, iround(m->vanos_in_actual * 10, -32768, 32767));
		be16(d + 4, iround(m->vanos_ex_target * 10, -32768, 32767));
		be16(d + 6, iround(m->vanos_ex_actual * 10, -32768, 32767));
		truth(t, SIG_VANOS_INTAKE_TARGET_DEG, m->vanos_in_target);
		truth(t, SIG_VANOS_INTAKE_ACTUAL_DEG, m->vanos_in_actual);
		truth(t, SIG_VANOS_EXHAUST_TARGET_DEG, m->vanos_ex_target);
		truth(t, SIG_VANOS_EXHAUST_ACTUAL_DEG, m->vanos_ex_actual);
		tx->len = 3 + 8;
		break;
	case DID_EMERGENCY:
		d[0] = (uint8_t)((m->emergency ? 1 : 0) |
				 (m->power_reduced ? 2 : 0));
		truth(t, SIG_ENGINE_EMERGENCY_MODE, m->emergency);
		truth(t, SIG_ENGINE_POWER_REDUCED, m->power_reduced);
		tx->len = 3 + 1;
		break;
	case DID_HEATER:
		d[0] = m->heater_on;
		be16(d + 1, iround(m->heater_a * 100, 0, 65535));
		truth(t, SIG_FUEL_HEATER_ON, m->heater_on);
		truth(t, SIG_FUEL_HEATER_CURRENT_A, m->heater_a);
		tx->len = 3 + 3;
		break;
	case DID_BATTERY:
		be16(d, iround(m->battery_a * 100, -32768, 32767));
		be16(d + 2, iround(m->battery_v * 1000, 0, 65535));
		truth(t, SIG_BATTERY_CURRENT_A, m->battery_a);
		truth(t, SIG_BATTERY_VOLTAGE_V, m->battery_v);
		tx->len = 3 + 4;
		break;
	case DID_TURBO:
		d[0] = (uint8_t)iround(m->pump_duty_pct, 0, 100);
		be16(d + 1, iround(m->pump_speed_rpm, 0, 65535));
		be16(d + 3, iround(m->turbo_coolant_c * 10, -32768, 32767));
		truth(t, SIG_TURBO_PUMP_DUTY_PCT, m->pump_duty_pct);
		truth(t, SIG_TURBO_PUMP_SPEED_RPM, m->pump_speed_rpm);
		truth(t, SIG_TURBO_COOLANT_TEMP_C, m->turbo_coolant_c);
		tx->len = 3 + 5;
		break;
	case DID_EGR:
		v = m->egr_temp_c;
		be16(d, iround(v * 10, -32768, 32767));
		d[2] = (uint8_t)iround(m->egr_valve_pct, 0, 100);
		d[3] = m->coolant_low;
		truth(t, SIG_EGR_TEMP_C, v);
		truth(t, SIG_EGR_VALVE_PCT, m->egr_valve_pct);
		truth(t, SIG_COOLANT_LEVEL_LOW, m->coolant_low);
		tx->len = 3 + 4;
		break;
	case DID__MAX:
		break;
	}
}

static int uds_poll(struct bus *b, const struct model *m, int64_t t_us)
{
	struct writer_frame f;
	struct tx tx;
	int best = -1, err = 0;
	int64_t t;

	if (t_us < b->uds_busy_until)
		return 0;
	for (int i = 0; i < DID__MAX; i++)
		if (b->did_due[i] <= b->step &&
		    (best < 0 || b->did_due[i] < b->did_due[best]))
			best = i;
	if (best < 0)
		return 0;
	b->did_due[best] = dids[best].period_steps ?
				   b->did_due[best] + dids[best].period_steps :
				   UINT64_MAX;
	if (b->did_due[best] <= b->step) /* fell behind: do not catch up */
		b->did_due[best] = b->step + dids[best].period_steps;

	t = t_us + rnd_us(b, 300, 2000);
	frame_init(&f, t, UDS_TESTER, 8);
	memset(f.data, b->sc->uds_padding, 8);
	f.data[0] = UDS_DME_ADDR;
	f.data[1] = 0x03;
	f.data[2] = 0x22;
	be16(f.data + 3, dids[best].did);
	err |= writer_push(b->w, &f);

	memset(&tx, 0, sizeof(tx));
	tx.id = UDS_DME;
	tx.ext = UDS_TESTER_ADDR;
	tx.fc_id = UDS_TESTER;
	tx.fc_ext = UDS_DME_ADDR;
	tx.pad = tx.fc_pad = b->sc->uds_padding;
	if (did_unknown(b->sc, dids[best].did)) {
		/* 7F 22 31: requestOutOfRange, "no value" */
		tx.payload[0] = 0x7F;
		tx.payload[1] = 0x22;
		tx.payload[2] = 0x31;
		tx.len = 3;
	} else {
		did_answer(m, (enum did_index)best, &tx);
	}
	t = send_isotp(b, &tx, t + rnd_us(b, 3000, 8000), &err);
	b->uds_busy_until = t + 1000;
	return err;
}

/* The DME's answer to an OBD request: 0x40 + mode ... */
static void obd_answer(const struct bus *b, const struct model *m, uint8_t mode,
		       uint8_t pid, struct tx *tx)
{
	const struct scenario *sc = b->sc;
	uint8_t *p = tx->payload;
	struct writer_frame *t = &tx->truth;
	double v;
	long raw;

	p[0] = (uint8_t)(0x40 + mode);
	if (mode == 0x03) {
		p[1] = (uint8_t)sc->n_ecu_dtcs;
		for (unsigned i = 0; i < sc->n_ecu_dtcs; i++)
			be16(p + 2 + 2 * i, sc->ecu_dtc[i]);
		tx->len = 2 + 2 * sc->n_ecu_dtcs;
		truth(t, SIG_ECU_DTC_COUNT, sc->n_ecu_dtcs);
		return;
	}
	p[1] = pid;
	if (mode == 0x06) {
		/* TID 0B: EWMA of past cycles, TID 0C: this cycle (UASID 24) */
		int c = pid - 0xA2;
		const uint8_t tids[2] = { 0x0B, 0x0C };
		const long vals[2] = { lround(m->misfire_ewma[c]),
				       (long)m->misfires[c] };

		/* J1979 on CAN: each record MID TID UASID value min max */
		for (int k = 0; k < 2; k++) {
			uint8_t *r = p + 1 + 9 * k;

			r[0] = pid;
			r[1] = tids[k];
			r[2] = 0x24;
			be16(r + 3, vals[k] > 0xFFFF ? 0xFFFF : vals[k]);
			be16(r + 5, 0);
			be16(r + 7, 0xFFFF);
		}
		tx->len = 19;
		truth(t, (enum signal_id)(SIG_MISFIRE_COUNT_CYL_1 + c),
		      m->misfires[c]);
		return;
	}
	switch (pid) {
	case 0x01:
		p[2] = (uint8_t)((sc->ecu_mil ? 0x80 : 0) | sc->n_ecu_dtcs);
		p[3] = 0x07;
		p[4] = 0x65;
		p[5] = 0x00;
		tx->len = 6;
		truth(t, SIG_ECU_MIL_ON, sc->ecu_mil);
		truth(t, SIG_ECU_DTC_COUNT, sc->n_ecu_dtcs);
		break;
	case 0x05:
	case 0x46:
	case 0x5C:
		v = pid == 0x05 ? m->coolant_c :
		    pid == 0x46 ? m->ambient_c :
				  m->oil_c;
		raw = iround(v + 40, 0, 255);
		p[2] = (uint8_t)raw;
		tx->len = 3;
		truth(t,
		      pid == 0x05 ? SIG_COOLANT_TEMP_C :
		      pid == 0x46 ? SIG_AMBIENT_TEMP_C :
				    SIG_OIL_TEMP_C,
		      fmin(fmax(v, -40), 215));
		break;
	case 0x0C:
		be16(p + 2, iround(m->rpm * 4, 0, 65535));
		tx->len = 4;
		truth(t, SIG_ENGINE_SPEED_RPM, m->rpm);
		break;
	case 0x0D:
		p[2] = (uint8_t)iround(m->speed_kmh, 0, 255);
		tx->len = 3;
		truth(t, SIG_VEHICLE_SPEED_KMH, m->speed_kmh);
		break;
	case 0x1F:
		v = m->run_state == 2 ? m->run_time_s : 0;
		be16(p + 2, iround(floor(v), 0, 65535));
		tx->len = 4;
		truth(t, SIG_ENGINE_RUN_TIME_S, floor(v));
		break;
	case 0x2C:
		p[2] = (uint8_t)iround(m->egr_valve_pct * 255 / 100, 0, 255);
		tx->len = 3;
		truth(t, SIG_EGR_COMMANDED_PCT, m->egr_valve_pct);
		break;
	case 0x42:
		be16(p + 2, iround(m->battery_v * 1000, 0, 65535));
		tx->len = 4;
		truth(t, SIG_BATTERY_VOLTAGE_V, m->battery_v);
		break;
	case 0x6B:
		/* J1979: A = sensors present, B..E = B1S1, B1S2, B2S1, B2S2 */
		p[2] = 0x01;
		p[3] = (uint8_t)iround(m->egr_temp_c + 40, 0, 255);
		p[4] = p[5] = p[6] = 0;
		tx->len = 7;
		truth(t, SIG_EGR_TEMP_C, fmin(fmax(m->egr_temp_c, -40), 215));
		break;
	default:
		tx->len = 2;
		break;
	}
}

static int obd_poll(struct bus *b, const struct model *m, int64_t t_us)
{
	struct writer_frame f;
	struct tx tx;
	uint8_t mode, pid;
	int err = 0;
	int64_t t;

	if (b->step < b->obd_due || t_us < b->obd_busy_until)
		return 0;
	b->obd_due = b->step + (b->sc->obd_interval_ms + 9) / 10;
	mode = obd_round[b->obd_next][0];
	pid = obd_round[b->obd_next][1];
	b->obd_next = (b->obd_next + 1) % OBD_ROUND;

	/* a dongle pads its requests with zeros, as in real E90 traffic */
	t = t_us + rnd_us(b, 100, 3000);
	frame_init(&f, t, OBD_FUNCTIONAL, 8);
	f.data[0] = mode == 0x03 ? 1 : 2;
	f.data[1] = mode;
	f.data[2] = mode == 0x03 ? 0 : pid;
	err |= writer_push(b->w, &f);

	memset(&tx, 0, sizeof(tx));
	tx.id = OBD_DME;
	tx.ext = -1;
	tx.fc_id = OBD_DME_REQ;
	tx.fc_ext = -1;
	tx.pad = b->sc->obd_padding;
	tx.fc_pad = 0x00;
	obd_answer(b, m, mode, pid, &tx);
	t = send_isotp(b, &tx, t + rnd_us(b, 8000, 14000), &err);
	b->obd_busy_until = t + 1000;
	return err;
}

int bus_step(struct bus *b, const struct model *m, int64_t t_us)
{
	int r = 0;
	/* the ECUs' own clocks wander by a few tens of microseconds */
	int64_t j = rnd_us(b, 0, 40);

	r |= push_0a9(b, m, t_us + 2560 + j);
	r |= push_0aa(b, m, t_us + 2810 + j);
	if (b->step % 10 == 3)
		r |= push_1d0(b, m, t_us + 3050 + j);
	if (b->step % 10 == 7)
		r |= push_130(b, m, t_us + 800 + j);
	if (b->step % 100 == 50)
		r |= push_3b4(b, m, t_us + 5100 + j);
	if (b->sc->other_ecus)
		r |= push_others(b, m, t_us + j);
	if (b->sc->uds)
		r |= uds_poll(b, m, t_us);
	if (b->sc->obd && (m->ignition || m->run_state))
		r |= obd_poll(b, m, t_us);
	b->step++;
	return r < 0 ? -ENOMEM : 0;
}

/* ---- live mode: the ECUs answer a real tester's requests ---- */

/* the PIDs and MIDs the reference DME lists (J1979 bitmaps) */
static bool obd_lists(uint8_t mode, uint8_t pid)
{
	if (mode == 0x06)
		return pid >= 0xA2 && pid < 0xA2 + MODEL_CYLINDERS;
	for (size_t i = 0; i < OBD_ROUND; i++)
		if (obd_round[i][0] == 0x01 && obd_round[i][1] == pid)
			return true;
	return false;
}

static size_t obd_bitmap(uint8_t mode, uint8_t base, uint8_t *p)
{
	uint32_t m = 0;

	for (unsigned k = 1; k <= 32; k++) {
		bool on = obd_lists(mode, (uint8_t)(base + k));

		/* bit 0: a later bitmap has something */
		for (unsigned q = base + 33u; k == 32 && q < 256; q++)
			on |= obd_lists(mode, (uint8_t)q);
		if (on)
			m |= 1u << (32 - k);
	}
	p[0] = (uint8_t)(0x40 + mode);
	p[1] = base;
	be16(p + 2, (long)(m >> 16));
	be16(p + 4, (long)(m & 0xFFFF));
	return 6;
}

static size_t negative(uint8_t sid, uint8_t nrc, uint8_t *out)
{
	out[0] = 0x7F;
	out[1] = sid;
	out[2] = nrc;
	return 3;
}

size_t bus_answer(const struct bus *b, const struct model *m, bool uds,
		  const uint8_t *req, size_t len, uint8_t *out)
{
	struct tx tx;

	memset(&tx, 0, sizeof(tx));
	if (len < 1)
		return 0;
	if (uds) {
		if (req[0] != 0x22)
			return negative(req[0], 0x11, out);
		if (len != 3)
			return negative(0x22, 0x13, out);
		for (int i = 0; i < DID__MAX; i++) {
			if (dids[i].did != (req[1] << 8 | req[2]))
				continue;
			if (did_unknown(b->sc, dids[i].did))
				break;
			did_answer(m, (enum did_index)i, &tx);
			memcpy(out, tx.payload, tx.len);
			return tx.len;
		}
		return negative(0x22, 0x31, out);
	}
	switch (req[0]) {
	case 0x01:
	case 0x06:
		if (len != 2)
			return negative(req[0], 0x13, out);
		if (req[1] % 32 == 0)
			return obd_bitmap(req[0], req[1], out);
		if (!obd_lists(req[0], req[1]))
			return 0; /* J1979: an unsupported PID gets no answer */
		break;
	case 0x03:
		break;
	case 0x07:
	case 0x0A:
		/* no pending or permanent codes in the model */
		out[0] = (uint8_t)(0x40 + req[0]);
		out[1] = 0;
		return 2;
	default:
		return negative(req[0], 0x11, out);
	}
	obd_answer(b, m, req[0], len > 1 ? req[1] : 0, &tx);
	memcpy(out, tx.payload, tx.len);
	return tx.len;
}
