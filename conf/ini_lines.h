/* ini_lines.h: libinih with the line numbers its handlers need for errors */
#pragma once

#include <ini.h>
#include <stdbool.h>
#include <stdio.h>

/* inih's line buffer: a longer line is an error (INI_MAX_LINE of <ini.h>) */
#define INI_LINES_MAX INI_MAX_LINE

/*
 * The Debian build of inih passes no line number to a handler: this reader
 * counts them, so every INI file of dtcd (profiles, dtcd.conf, dtc.ini, the
 * workshop actions, simulator scenarios) can name file:line.
 */
struct ini_lines {
	int line;	  /* the line the handler is called for */
	int section_line; /* the line of the last [section] header */
	FILE *f;
	bool at_bol;   /* the last chunk read ended a line */
	int long_line; /* first line longer than inih's buffer, 0 = none */
};

/*
 * handler(user, section, name, value) returns nonzero on success. Returns 0,
 * -errno when the file cannot be read, or the first line inih or a handler
 * rejected (> 0), a line too long for inih included.
 */
int ini_lines_parse(const char *path, struct ini_lines *ini,
		    int (*handler)(void *user, const char *section,
				   const char *name, const char *value),
		    void *user);
