/* obd.h: SAE J1979 (OBD-II) service decoding */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What a decoded answer contains; any callback may be NULL. */
struct obd_ops {
	/* Service 01: one value of a PID; field names come from obd_pid_field
	 */
	void (*pid_value)(void *userdata, uint8_t pid, unsigned field,
			  double value);
	/* Services 03/07/0A: service is 0x03, 0x07 or 0x0A */
	void (*dtc_list)(void *userdata, uint8_t service, const uint16_t *codes,
			 size_t n);
	/* Service 06: one test result */
	void (*monitor)(void *userdata, uint8_t mid, uint8_t tid, uint8_t uasid,
			double value, double min, double max);
	/* 7F: negative answer to service (requested) */
	void (*negative)(void *userdata, uint8_t service, uint8_t nrc);
};

/*
 * Decodes one complete answer (after ISO-TP): 41 .., 43 .., 46 .., 47 ..,
 * 4A .., 7F ... Returns 0, or -EBADMSG for a short or malformed one (nothing
 * of it reported), or -EOPNOTSUPP for another service (nothing reported).
 *
 * 41: PID data [PID data ...] (a multi-PID answer is split by each PID's
 *   J1979 data length). A PID whose length is not known takes the rest of
 *   the answer and is not reported. Decoded: 01, 04-11, 1F, 21-23, 2C-31,
 *   33, 3C-3F, 42-4E, 52, 59-5C, 5E, 61-63, 6B (formulas of J1979, units
 *   %, °C, rpm, km/h, kPa, s, V, ...); other PIDs are skipped.
 * 43/47/4A: count code... (ISO 15765-4: the count byte is required; the
 *   length must be 2 + 2 * count). dtc_list is called also for 0 codes.
 * 46: records of MID TID UASID value min max (2 bytes each, scaled by the
 *   UASID of J1979 appendix E; an unknown UASID gives the raw unsigned
 *   number). Records of MID 00, 20 .. E0 (supported MIDs, 4 bytes) are
 *   skipped. Misfire counts: MID A2-AD (cylinders 1-12), TID 0x0C, UASID
 *   0x24.
 * 7F: SID NRC, exactly 3 bytes.
 */
int obd_decode(const uint8_t *msg, size_t len, const struct obd_ops *ops,
	       void *userdata);

/*
 * The field index of a named value of a service 01 PID, or -1 (also for a
 * NULL name):
 * - "value" (0) for the one value of every decoded PID but 01 and 6B;
 * - PID 01: "mil_on" (0: 0 or 1), "dtc_count" (1: stored emission DTCs);
 * - PID 6B: "sensors_present" (0: byte A, bit 0 = bank 1 sensor 1, bit 1 =
 *   B1S2, bit 2 = B2S1, bit 3 = B2S2), "egr_temp_b1s1" (1), "egr_temp_b1s2"
 *   (2), "egr_temp_b2s1" (3), "egr_temp_b2s2" (4), °C; a temperature is
 *   reported only when its sensor's bit is set.
 */
int obd_pid_field(uint8_t pid, const char *name);

/* "P0301" from the two J2012 bytes; buf has room for 6 */
void obd_dtc_format(uint16_t code, char buf[static 6]);
