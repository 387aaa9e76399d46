/* report.h: dtc-collect report: the fleet's open DTCs as text, CSV, JSON */
#pragma once

#include <stdio.h>

#include "actions.h"
#include "db.h"
#include "store.h"

enum report_format { REPORT_TEXT, REPORT_CSV, REPORT_JSON };

/*
 * Per vehicle the open DTCs (f: one vehicle, at least a severity; with a
 * severity only vehicles that have such a DTC), severity, the workshop
 * action in lang (the car's text when the catalogue lacks the code), last
 * seen. 0 or -errno.
 */
int report_print(FILE *out, struct db *db, const struct store_filter *f,
		 enum report_format fmt, const struct actions *a,
		 const char *lang);
