/* obd.c: SAE J1979 (OBD-II) service decoding */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "obd.h"

enum obd_kind {
	OBD_UNKNOWN = 0, /* length unknown: the PID takes the rest */
	OBD_SKIP,	 /* known length, not decoded (bitmaps, enums) */
	OBD_LINEAR,	 /* one value: raw (A or 256A + B) * scale + offset */
	OBD_STATUS,	 /* PID 01 */
	OBD_EGR_TEMP,	 /* PID 6B */
};

struct obd_pid_desc {
	unsigned char kind;
	unsigned char len; /* data bytes after the PID */
	double scale;
	double offset;
};

/* clang-format off */
#define SKIP(n) { .kind = OBD_SKIP, .len = n }
#define LIN(n, s, o) { .kind = OBD_LINEAR, .len = n, .scale = s, .offset = o }
/* clang-format on */
#define PCT LIN(1, 100.0 / 255.0, 0)
#define TEMP LIN(1, 1, -40)
#define TRIM LIN(1, 100.0 / 128.0, -100)

/*
 * Lengths and formulas of SAE J1979 service 01. The lengths matter even for
 * PIDs that are not decoded: they split a multi-PID answer.
 */
static const struct obd_pid_desc obd_pids[256] = {
	[0x00] = SKIP(4),
	[0x01] = { .kind = OBD_STATUS, .len = 4 },
	[0x02] = SKIP(2),
	[0x03] = SKIP(2),
	[0x04] = PCT,  /* calculated load % */
	[0x05] = TEMP, /* coolant °C */
	[0x06] = TRIM, /* short term fuel trim bank 1 % */
	[0x07] = TRIM, /* long term fuel trim bank 1 % */
	[0x08] = TRIM,
	[0x09] = TRIM,
	[0x0A] = LIN(1, 3, 0),	   /* fuel pressure kPa */
	[0x0B] = LIN(1, 1, 0),	   /* intake manifold pressure kPa */
	[0x0C] = LIN(2, 0.25, 0),  /* engine speed rpm */
	[0x0D] = LIN(1, 1, 0),	   /* vehicle speed km/h */
	[0x0E] = LIN(1, 0.5, -64), /* timing advance ° before TDC */
	[0x0F] = TEMP,		   /* intake air °C */
	[0x10] = LIN(2, 0.01, 0),  /* MAF g/s */
	[0x11] = PCT,		   /* throttle % */
	[0x12] = SKIP(1),
	[0x13] = SKIP(1),
	[0x14] = SKIP(2),
	[0x15] = SKIP(2),
	[0x16] = SKIP(2),
	[0x17] = SKIP(2),
	[0x18] = SKIP(2),
	[0x19] = SKIP(2),
	[0x1A] = SKIP(2),
	[0x1B] = SKIP(2),
	[0x1C] = SKIP(1),
	[0x1D] = SKIP(1),
	[0x1E] = SKIP(1),
	[0x1F] = LIN(2, 1, 0), /* run time since engine start s */
	[0x20] = SKIP(4),
	[0x21] = LIN(2, 1, 0),	   /* distance with MIL on km */
	[0x22] = LIN(2, 0.079, 0), /* fuel rail pressure kPa */
	[0x23] = LIN(2, 10, 0),	   /* fuel rail gauge pressure kPa */
	[0x24] = SKIP(4),
	[0x25] = SKIP(4),
	[0x26] = SKIP(4),
	[0x27] = SKIP(4),
	[0x28] = SKIP(4),
	[0x29] = SKIP(4),
	[0x2A] = SKIP(4),
	[0x2B] = SKIP(4),
	[0x2C] = PCT,	       /* commanded EGR % */
	[0x2D] = TRIM,	       /* EGR error % */
	[0x2E] = PCT,	       /* commanded evaporative purge % */
	[0x2F] = PCT,	       /* fuel level % */
	[0x30] = LIN(1, 1, 0), /* warm-ups since codes cleared */
	[0x31] = LIN(2, 1, 0), /* distance since codes cleared km */
	[0x32] = SKIP(2),
	[0x33] = LIN(1, 1, 0), /* barometric pressure kPa */
	[0x34] = SKIP(4),
	[0x35] = SKIP(4),
	[0x36] = SKIP(4),
	[0x37] = SKIP(4),
	[0x38] = SKIP(4),
	[0x39] = SKIP(4),
	[0x3A] = SKIP(4),
	[0x3B] = SKIP(4),
	[0x3C] = LIN(2, 0.1, -40), /* catalyst temperature B1S1 °C */
	[0x3D] = LIN(2, 0.1, -40),
	[0x3E] = LIN(2, 0.1, -40),
	[0x3F] = LIN(2, 0.1, -40),
	[0x40] = SKIP(4),
	[0x41] = SKIP(4),
	[0x42] = LIN(2, 0.001, 0),	   /* control module voltage V */
	[0x43] = LIN(2, 100.0 / 255.0, 0), /* absolute load % */
	[0x44] = LIN(2, 2.0 / 65536.0, 0), /* commanded equivalence ratio */
	[0x45] = PCT,			   /* relative throttle % */
	[0x46] = TEMP,			   /* ambient air °C */
	[0x47] = PCT,
	[0x48] = PCT,
	[0x49] = PCT,
	[0x4A] = PCT,
	[0x4B] = PCT,
	[0x4C] = PCT,
	[0x4D] = LIN(2, 1, 0), /* time run with MIL on min */
	[0x4E] = LIN(2, 1, 0), /* time since codes cleared min */
	[0x4F] = SKIP(4),
	[0x50] = SKIP(4),
	[0x51] = SKIP(1),
	[0x52] = PCT, /* ethanol % */
	[0x53] = SKIP(2),
	[0x54] = SKIP(2),
	[0x55] = SKIP(2),
	[0x56] = SKIP(2),
	[0x57] = SKIP(2),
	[0x58] = SKIP(2),
	[0x59] = LIN(2, 10, 0), /* fuel rail absolute pressure kPa */
	[0x5A] = PCT,		/* relative accelerator pedal % */
	[0x5B] = PCT,		/* hybrid battery remaining % */
	[0x5C] = TEMP,		/* engine oil °C */
	[0x5D] = SKIP(2),
	[0x5E] = LIN(2, 0.05, 0), /* engine fuel rate l/h */
	[0x5F] = SKIP(1),
	[0x60] = SKIP(4),
	[0x61] = LIN(1, 1, -125), /* driver's demand torque % */
	[0x62] = LIN(1, 1, -125), /* actual torque % */
	[0x63] = LIN(2, 1, 0),	  /* reference torque Nm */
	[0x6B] = { .kind = OBD_EGR_TEMP, .len = 5 },
	[0x80] = SKIP(4),
	[0xA0] = SKIP(4),
	[0xC0] = SKIP(4),
	[0xE0] = SKIP(4),
};

static const char *const obd_status_fields[] = { "mil_on", "dtc_count" };
static const char *const obd_egr_fields[] = {
	"sensors_present", "egr_temp_b1s1", "egr_temp_b1s2",
	"egr_temp_b2s1",   "egr_temp_b2s2",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int obd_pid_field(uint8_t pid, const char *name)
{
	const char *const *names;
	size_t n;

	/* a profile line may name no field at all ("01" alone) */
	if (!name)
		return -1;
	switch (obd_pids[pid].kind) {
	case OBD_LINEAR:
		return strcmp(name, "value") == 0 ? 0 : -1;
	case OBD_STATUS:
		names = obd_status_fields;
		n = ARRAY_SIZE(obd_status_fields);
		break;
	case OBD_EGR_TEMP:
		names = obd_egr_fields;
		n = ARRAY_SIZE(obd_egr_fields);
		break;
	default:
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

void obd_dtc_format(uint16_t code, char buf[static 6])
{
	/* SAE J2012: 2 bits system, 2 bits first digit, 3 hex digits */
	snprintf(buf, 6, "%c%u%03X", "PCBU"[code >> 14], (code >> 12) & 3u,
		 code & 0xFFFu);
}

static void obd_report_pid(uint8_t pid, const uint8_t *d,
			   const struct obd_ops *ops, void *userdata)
{
	const struct obd_pid_desc *desc = &obd_pids[pid];
	double raw;

	switch (desc->kind) {
	case OBD_LINEAR:
		raw = desc->len == 2 ? 256.0 * d[0] + d[1] : d[0];
		ops->pid_value(userdata, pid, 0,
			       raw * desc->scale + desc->offset);
		break;
	case OBD_STATUS:
		ops->pid_value(userdata, pid, 0, d[0] >> 7);
		ops->pid_value(userdata, pid, 1, d[0] & 0x7F);
		break;
	case OBD_EGR_TEMP:
		/* a temperature is only there when its sensor is */
		ops->pid_value(userdata, pid, 0, d[0]);
		for (unsigned s = 0; s < 4; s++)
			if (d[0] & (1u << s))
				ops->pid_value(userdata, pid, s + 1,
					       d[s + 1] - 40.0);
		break;
	default:
		break;
	}
}

/* 41 PID data [PID data ...]: all of it checked before anything is reported */
static int obd_decode_pids(const uint8_t *msg, size_t len,
			   const struct obd_ops *ops, void *userdata)
{
	size_t i = 1;

	if (len < 2)
		return -EBADMSG;
	while (i < len) {
		const struct obd_pid_desc *desc = &obd_pids[msg[i]];

		if (desc->kind == OBD_UNKNOWN)
			break;
		if (len - i - 1 < desc->len)
			return -EBADMSG;
		i += 1 + desc->len;
	}
	if (!ops->pid_value)
		return 0;
	for (i = 1; i < len; i += 1 + obd_pids[msg[i]].len) {
		if (obd_pids[msg[i]].kind == OBD_UNKNOWN)
			break;
		obd_report_pid(msg[i], msg + i + 1, ops, userdata);
	}
	return 0;
}

/* 43/47/4A count code... : ISO 15765-4 puts the number of codes first */
static int obd_decode_dtcs(const uint8_t *msg, size_t len,
			   const struct obd_ops *ops, void *userdata)
{
	uint16_t codes[255];
	size_t n;

	if (len < 2 || len != 2 + 2 * (size_t)msg[1])
		return -EBADMSG;
	n = msg[1];
	for (size_t i = 0; i < n; i++)
		codes[i] = (uint16_t)(msg[2 + 2 * i] << 8 | msg[3 + 2 * i]);
	if (ops->dtc_list)
		ops->dtc_list(userdata, msg[0] - 0x40, codes, n);
	return 0;
}

struct obd_uas {
	bool is_signed;
	double scale;
	double offset;
};

/* SAE J1979 appendix E: unit and scaling identifiers of service 06 */
static const struct obd_uas obd_uas[256] = {
	[0x01] = { false, 1, 0 },	   [0x02] = { false, 0.1, 0 },
	[0x03] = { false, 0.01, 0 },	   [0x04] = { false, 0.001, 0 },
	[0x05] = { false, 0.0000305, 0 },  [0x06] = { false, 0.000305, 0 },
	[0x07] = { false, 0.25, 0 },	   [0x08] = { false, 0.01, 0 },
	[0x09] = { false, 1, 0 },	   [0x0A] = { false, 0.122, 0 },
	[0x0B] = { false, 0.001, 0 },	   [0x0C] = { false, 0.01, 0 },
	[0x0D] = { false, 0.00390625, 0 }, [0x0E] = { false, 0.001, 0 },
	[0x0F] = { false, 0.01, 0 },	   [0x10] = { false, 1, 0 },
	[0x11] = { false, 100, 0 },	   [0x12] = { false, 1, 0 },
	[0x13] = { false, 1, 0 },	   [0x14] = { false, 1, 0 },
	[0x15] = { false, 1, 0 },	   [0x16] = { false, 0.1, -40 },
	[0x17] = { false, 0.01, 0 },	   [0x18] = { false, 0.0117, 0 },
	[0x19] = { false, 0.079, 0 },	   [0x1A] = { false, 1, 0 },
	[0x1B] = { false, 10, 0 },	   [0x1C] = { false, 0.01, 0 },
	[0x1D] = { false, 0.5, 0 },	   [0x1E] = { false, 0.0000305, 0 },
	[0x1F] = { false, 0.05, 0 },	   [0x20] = { false, 0.00390625, 0 },
	[0x21] = { false, 1, 0 },	   [0x22] = { false, 1, 0 },
	[0x23] = { false, 1, 0 },	   [0x24] = { false, 1, 0 },
	[0x25] = { false, 1, 0 },	   [0x26] = { false, 0.1, 0 },
	[0x27] = { false, 0.01, 0 },	   [0x28] = { false, 1, 0 },
	[0x29] = { false, 0.25, 0 },	   [0x2A] = { false, 0.001, 0 },
	[0x2B] = { false, 1, 0 },	   [0x2C] = { false, 0.01, 0 },
	[0x2D] = { false, 0.01, 0 },	   [0x2E] = { false, 1, 0 },
	[0x2F] = { false, 0.01, 0 },	   [0x30] = { false, 0.001526, 0 },
	[0x31] = { false, 0.001, 0 },	   [0x32] = { false, 0.0000305, 0 },
	[0x33] = { false, 0.00024414, 0 }, [0x34] = { false, 1, 0 },
	[0x35] = { false, 10, 0 },	   [0x36] = { false, 0.01, 0 },
	[0x37] = { false, 0.1, 0 },	   [0x38] = { false, 1, 0 },
	[0x39] = { false, 0.01, -327.68 }, [0x3A] = { false, 0.001, 0 },
	[0x3B] = { false, 0.0001, 0 },	   [0x3C] = { false, 0.1, 0 },
	[0x3D] = { false, 0.01, 0 },	   [0x3E] = { false, 0.00006103516, 0 },
	[0x3F] = { false, 0.01, 0 },	   [0x40] = { false, 1, 0 },
	[0x41] = { false, 0.01, 0 },	   [0x81] = { true, 1, 0 },
	[0x82] = { true, 0.1, 0 },	   [0x83] = { true, 0.01, 0 },
	[0x84] = { true, 0.001, 0 },	   [0x85] = { true, 0.0000305, 0 },
	[0x86] = { true, 0.000305, 0 },	   [0x87] = { true, 1, 0 },
	[0x8A] = { true, 0.122, 0 },	   [0x8B] = { true, 0.001, 0 },
	[0x8C] = { true, 0.01, 0 },	   [0x8D] = { true, 0.00390625, 0 },
	[0x8E] = { true, 0.001, 0 },	   [0x90] = { true, 1, 0 },
	[0x96] = { true, 0.1, 0 },	   [0x99] = { true, 0.1, 0 },
	[0x9C] = { true, 0.01, 0 },	   [0x9D] = { true, 0.5, 0 },
	[0xA8] = { true, 1, 0 },	   [0xA9] = { true, 0.25, 0 },
	[0xAD] = { true, 0.01, 0 },	   [0xAE] = { true, 0.1, 0 },
	[0xAF] = { true, 0.01, 0 },	   [0xB0] = { true, 0.003052, 0 },
	[0xB1] = { true, 2, 0 },	   [0xFC] = { true, 0.01, 0 },
	[0xFD] = { true, 0.001, 0 },	   [0xFE] = { true, 0.25, 0 },
};

static double obd_uas_value(uint8_t uasid, const uint8_t *d)
{
	const struct obd_uas *u = &obd_uas[uasid];
	uint16_t raw = (uint16_t)(d[0] << 8 | d[1]);

	if (u->scale == 0)
		return raw; /* unknown scaling: the raw count */
	if (u->is_signed)
		return (int16_t)raw * u->scale + u->offset;
	return raw * u->scale + u->offset;
}

/* A record of service 06 on CAN: MID TID UASID value min max */
#define OBD_MONITOR_LEN 9
/* MIDs 00, 20, ... E0 answer with a 4-byte bitmap of supported MIDs */
#define OBD_SUPPORTED_LEN 5

static size_t obd_monitor_len(uint8_t mid)
{
	return (mid & 0x1F) == 0 ? OBD_SUPPORTED_LEN : OBD_MONITOR_LEN;
}

static int obd_decode_monitors(const uint8_t *msg, size_t len,
			       const struct obd_ops *ops, void *userdata)
{
	size_t i;

	if (len < 2)
		return -EBADMSG;
	for (i = 1; i < len; i += obd_monitor_len(msg[i]))
		if (len - i < obd_monitor_len(msg[i]))
			return -EBADMSG;
	if (!ops->monitor)
		return 0;
	for (i = 1; i < len; i += obd_monitor_len(msg[i])) {
		const uint8_t *r = msg + i;

		if (obd_monitor_len(r[0]) != OBD_MONITOR_LEN)
			continue;
		ops->monitor(
			userdata, r[0], r[1], r[2], obd_uas_value(r[2], r + 3),
			obd_uas_value(r[2], r + 5), obd_uas_value(r[2], r + 7));
	}
	return 0;
}

int obd_decode(const uint8_t *msg, size_t len, const struct obd_ops *ops,
	       void *userdata)
{
	static const struct obd_ops none;

	if (!msg || len == 0)
		return -EBADMSG;
	if (!ops)
		ops = &none;
	switch (msg[0]) {
	case 0x41:
		return obd_decode_pids(msg, len, ops, userdata);
	case 0x43:
	case 0x47:
	case 0x4A:
		return obd_decode_dtcs(msg, len, ops, userdata);
	case 0x46:
		return obd_decode_monitors(msg, len, ops, userdata);
	case 0x7F:
		if (len != 3)
			return -EBADMSG;
		if (ops->negative)
			ops->negative(userdata, msg[1], msg[2]);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
