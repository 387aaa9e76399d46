/* event.h: DTC events as the manager emits them and the outputs write them */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "report.h"
#include "signal.h"

enum dtc_event_type {
	DTC_EVENT_PENDING,
	DTC_EVENT_CONFIRMED,
	DTC_EVENT_HEALED,
	DTC_EVENT_CLEARED,
	DTC_EVENT_ECU,	   /* what an ECU reports itself (MIL, its own codes) */
	DTC_EVENT_DROPPED, /* the outbox was full: events were dropped */
};

/* Status byte bits of ISO 14229-1 */
enum dtc_status_bit {
	DTC_ST_TEST_FAILED = 0x01,
	DTC_ST_TEST_FAILED_THIS_OP_CYCLE = 0x02,
	DTC_ST_PENDING = 0x04,
	DTC_ST_CONFIRMED = 0x08,
	DTC_ST_TEST_NOT_COMPLETED_SINCE_CLEAR = 0x10,
	DTC_ST_TEST_FAILED_SINCE_CLEAR = 0x20,
	DTC_ST_TEST_NOT_COMPLETED_THIS_OP_CYCLE = 0x40,
	DTC_ST_WARNING_INDICATOR = 0x80,
};

struct dtc_freeze_frame {
	bool present[SIG__MAX];
	double value[SIG__MAX];
	char vin[SIG_VIN_LEN + 1]; /* "" when unknown */
};

struct dtc_event {
	enum dtc_event_type type;
	int64_t ts_ns;
	const char *code;     /* "P0303", "MIL" */
	const char *detector; /* "misfire", "ecu" */
	enum dtc_severity severity;
	uint8_t status;
	unsigned occurrences;
	const struct dtc_freeze_frame *freeze_frame; /* may be NULL */
	/* DTC_EVENT_ECU only */
	uint32_t ecu_id;      /* answering CAN ID, e.g. 0x7E8 */
	int mil_on;	      /* -1 unknown */
	int dtc_count;	      /* -1 unknown */
	const char *ecu_kind; /* "stored", "pending", "permanent" for codes */
	/* per vehicle, monotonic across restarts; 0 = none given */
	uint64_t event_id;
	unsigned dropped; /* DTC_EVENT_DROPPED: how many */
};

const char *dtc_event_type_name(enum dtc_event_type t);
