/* catalogue.h: workshop actions and driver advice per DTC, per language */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report.h"

struct catalogue_entry {
	const char *code;	 /* "P0303" */
	const char *title;	 /* one line */
	const char *description; /* what the fault is and what it can cause */
	enum dtc_severity severity;
	const char *driver_advice; /* what to do now, e.g. stop safely */
	const char *action;	   /* the workshop check, recall facts */
};

struct catalogue;

/*
 * Loads an actions INI file: one [CODE] section per DTC with the keys title,
 * description, severity (low, medium, high, critical), driver_advice and
 * action; indented lines continue a value. path is the file itself, or a
 * directory holding actions.LANG.ini. lang is "en" or "de" (only used to
 * pick the file in a directory). Errors name file:line.
 */
int catalogue_load(struct catalogue **ret, const char *path, const char *lang,
		   char *errbuf, size_t errlen);
void catalogue_free(struct catalogue *c);

/* NULL when the code has no entry */
const struct catalogue_entry *catalogue_find(const struct catalogue *c,
					     const char *code);
size_t catalogue_count(const struct catalogue *c);
/* entries in file order; NULL past the end */
const struct catalogue_entry *catalogue_at(const struct catalogue *c, size_t i);
/* SAE J2012 code: P, C, B or U and four hex digits ("P0301") */
bool catalogue_code_valid(const char *s);
/* "low", "medium", "high", "critical" -> severity; -EINVAL otherwise */
int catalogue_parse_severity(const char *s, enum dtc_severity *ret_severity);
