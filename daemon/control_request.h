/* control_request.h: the control socket's requests, parsed without a socket */
#pragma once

#include <stddef.h>

/* what dtcctl can ask (control.h has the answers) */
enum control_verb {
	CONTROL_LIST,
	CONTROL_LIST_ALL,
	CONTROL_SIGNALS,
	CONTROL_CLEAR, /* code: one DTC, NULL: all */
	CONTROL_STATUS,
	CONTROL_CAPTURE, /* code: the DTC whose evidence is asked */
};

struct control_request {
	enum control_verb verb;
	const char *code; /* clear's or capture's CODE (in the line), or NULL */
};

/* the longest request line, its newline included, a client may send */
#define CONTROL_LINE_MAX 256

/*
 * Parses one request line (without its newline; split in place). Returns
 * 0, or -EINVAL with the error answer's text in errbuf.
 */
int control_request_parse(char *line, struct control_request *ret, char *errbuf,
			  size_t errlen);

/*
 * The next complete request in buf[*used, len): the line up to its newline,
 * NUL-terminated in place; *used moves past the newline. NULL when no
 * complete line is left.
 */
char *control_request_next(char *buf, size_t len, size_t *used);
