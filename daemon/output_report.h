/* output_report.h: dtcd --report FILE, a self-contained HTML page of a drive */
#pragma once

#include "output.h"

/*
 * Collects every decoded value, the operation and warm-up cycles and the DTC
 * events, and writes path when the output is freed (the end of the replay).
 * source names the log on the page; lang "de" labels it in German. The file
 * is created at once, so a path that cannot be written fails here.
 */
int output_report_new(struct output *ret, const char *path, const char *source,
		      const char *lang);
