/* report.h: what a detector tells the DTC manager, and what it gets back */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum dtc_result {
	DTC_RESULT_PASSED,    /* the test ran and passed (debounce jumps) */
	DTC_RESULT_FAILED,    /* the test ran and failed (debounce jumps) */
	DTC_RESULT_PREPASSED, /* one step towards passed */
	DTC_RESULT_PREFAILED, /* one step towards failed */
};

enum dtc_severity {
	DTC_SEVERITY_DEFAULT = 0, /* as the catalogue says */
	DTC_SEVERITY_LOW,
	DTC_SEVERITY_MEDIUM,
	DTC_SEVERITY_HIGH,
	DTC_SEVERITY_CRITICAL,
};

struct dtc_report {
	const char *code;     /* "P0301" */
	const char *detector; /* "misfire" */
	enum dtc_result result;
	enum dtc_severity
		severity; /* DEFAULT, or e.g. CRITICAL for P1D04 >= 125 °C */
	bool confirm_now; /* catalyst damage, coolant low, emergency program */
};

/*
 * Where detectors send their results: the daemon wires it to the DTC manager,
 * tests to a recorder. ts_ns is the frame time the result belongs to.
 */
struct dtc_sink {
	void (*report)(void *userdata, int64_t ts_ns,
		       const struct dtc_report *r);
	void *userdata;
};

static inline void dtc_sink_report(const struct dtc_sink *sink, int64_t ts_ns,
				   const struct dtc_report *r)
{
	if (sink && sink->report)
		sink->report(sink->userdata, ts_ns, r);
}

const char *dtc_severity_name(enum dtc_severity s);
/* what a full queue drops first (the outbox, the events waiting for the
 * store): 0 low, 1 medium or default, 2 high, 3 critical (never) */
int dtc_severity_drop_rank(enum dtc_severity s);
