/* obd.h: SAE J1979 (OBD-II) service decoding */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What a decoded answer contains; any callback may be NULL. */
struct obd_ops {
	/* Service 01: one value of a PID; field names come from obd_pid_field */
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
 * of it reported).
 */
int obd_decode(const uint8_t *msg, size_t len, const struct obd_ops *ops,
	       void *userdata);

/*
 * The field index of a named value of a service 01 PID ("mil_on",
 * "dtc_count" for PID 01; "value" for the one value of most PIDs), or -1.
 */
int obd_pid_field(uint8_t pid, const char *name);

/* "P0301" from the two J2012 bytes; buf has room for 6 */
void obd_dtc_format(uint16_t code, char buf[static 6]);
