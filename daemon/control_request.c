/* control_request.c: splitting and parsing the control socket's requests */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control_request.h"

#define SEPARATORS " \t\r"

int control_request_parse(char *line, struct control_request *ret, char *errbuf,
			  size_t errlen)
{
	char *save = NULL;
	char *cmd = strtok_r(line, SEPARATORS, &save);
	char *arg = strtok_r(NULL, SEPARATORS, &save);

	if (!cmd) {
		snprintf(errbuf, errlen,
			 "expected list, signals, clear [CODE], capture CODE "
			 "or status");
		return -EINVAL;
	}
	if (strtok_r(NULL, SEPARATORS, &save)) {
		snprintf(errbuf, errlen, "%s: too many arguments", cmd);
		return -EINVAL;
	}
	*ret = (struct control_request){ .code = NULL };
	if (!strcmp(cmd, "list") && (!arg || !strcmp(arg, "all"))) {
		ret->verb = arg ? CONTROL_LIST_ALL : CONTROL_LIST;
		return 0;
	}
	if (!strcmp(cmd, "signals") && !arg) {
		ret->verb = CONTROL_SIGNALS;
		return 0;
	}
	if (!strcmp(cmd, "clear")) {
		ret->verb = CONTROL_CLEAR;
		ret->code = arg;
		return 0;
	}
	if (!strcmp(cmd, "capture")) {
		ret->verb = CONTROL_CAPTURE;
		ret->code = arg;
		return 0;
	}
	if (!strcmp(cmd, "status") && !arg) {
		ret->verb = CONTROL_STATUS;
		return 0;
	}
	snprintf(errbuf, errlen,
		 "'%s': expected list [all], signals, clear [CODE], capture "
		 "CODE or status",
		 cmd);
	return -EINVAL;
}

char *control_request_next(char *buf, size_t len, size_t *used)
{
	char *line = buf + *used;
	char *nl;

	if (*used >= len)
		return NULL;
	nl = memchr(line, '\n', len - *used);
	if (!nl)
		return NULL;
	*nl = '\0';
	*used = (size_t)(nl - buf) + 1;
	return line;
}
