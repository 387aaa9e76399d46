/* policy.h: dtc.ini: how each DTC is debounced, confirmed and healed */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "report.h"

#define DTC_POLICY_CODE_MAX 16
#define DTC_POLICY_DETECTOR_MAX 32

enum dtc_confirm_mode {
	DTC_CONFIRM_CYCLES,
	DTC_CONFIRM_AT_ONCE,
	DTC_CONFIRM_AT_ONCE_WHEN_CRITICAL,
};

enum dtc_debounce_kind {
	DTC_DEBOUNCE_COUNTER,
	DTC_DEBOUNCE_TIME,
};

struct dtc_policy {
	char code[DTC_POLICY_CODE_MAX]; /* "" for [defaults] */
	char detector[DTC_POLICY_DETECTOR_MAX];
	enum dtc_severity severity;
	enum dtc_confirm_mode confirm;
	unsigned confirm_cycles; /* failing operation cycles to confirm */
	unsigned aging_cycles;	 /* warm-up cycles without failure to heal */
	bool warning_indicator;	 /* confirmed sets bit 7 (the MIL) */
	/* passing cycles to switch it off, 0 never */
	unsigned warning_off_cycles;
	enum dtc_debounce_kind debounce;
	int counter_fail, counter_pass; /* steps to qualify */
	int64_t time_fail_ns, time_pass_ns;
	unsigned set; /* bit per key of dtc_policy_keys given in the section */
	int line;     /* of the section header */
};

/* dtc.ini: [defaults], then one section per DTC, in file order */
struct dtc_policies {
	struct dtc_policy defaults;
	struct dtc_policy
		*dtc; /* each with what it did not set from defaults */
	size_t n;
};

/* The keys of a dtc.ini section (NULL-terminated), for docs and tests */
extern const struct conf_key dtc_policy_keys[];

/* The built-in defaults (docs/dtc.md) */
void dtc_policy_default(struct dtc_policy *p);
/*
 * Reads path. 0, or -EINVAL / -errno with "FILE:LINE: what" in errbuf.
 * *ret is empty on error; dtc_policies_free() it either way.
 */
int dtc_policies_load(struct dtc_policies *ret, const char *path, char *errbuf,
		      size_t errlen);
void dtc_policies_free(struct dtc_policies *p);
