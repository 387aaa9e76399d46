/* dtcctl.c: asks a running dtcd over its control socket, prints the answer */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dtcctl [-j] [-s SOCKET] list [all] | show CODE | "
		"signals |\n"
		"              clear [CODE] | capture CODE | status\n"
		"\n"
		"  -s, --socket PATH  dtcd's control socket "
		"(default " CONTROL_DEFAULT_PATH ")\n"
		"  -j, --json         print dtcd's JSON answer as it is\n"
		"\n"
		"  list [all]     current DTCs: status byte, occurrences, "
		"first and\n"
		"                 last failure, freeze frame (all: every known "
		"DTC)\n"
		"  show CODE      one DTC whole: status bits by name, "
		"occurrences,\n"
		"                 failures, freeze frame, advice, workshop "
		"action\n"
		"  signals        last value of each canonical signal and its "
		"age\n"
		"  clear [CODE]   clear one DTC or all (as UDS 0x14)\n"
		"  capture CODE   the raw frames around CODE's last event, as "
		"a candump\n"
		"                 log to replay (dtcctl capture P0301 > "
		"ev.log)\n"
		"  status         profile, interface, frames, uptime, MQTT\n");
}

/* the answer line, malloc'd; NULL with errno set */
static char *ask(const char *path, const char *request)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, request, strlen(request), MSG_NOSIGNAL) < 0 ||
	    shutdown(fd, SHUT_WR) < 0)
		goto fail;
	buf = malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		if (len + 1 >= cap) {
			char *b = realloc(buf, cap * 2);

			if (!b)
				goto fail;
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n))
			break; /* one request, one answer line */
	}
	buf[len] = '\0';
	close(fd);
	if (len == 0) {
		free(buf);
		errno = ECONNRESET;
		return NULL;
	}
	return buf;
fail:
	n = errno;
	free(buf);
	close(fd);
	errno = (int)n;
	return NULL;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

/* absolute times (live, logs of a real clock) as UTC, others as seconds */
static void print_time(const char *label, struct json_object *o,
		       const char *key)
{
	struct json_object *v;
	char buf[64];
	double t;
	time_t s;

	if (!json_object_object_get_ex(o, key, &v) || !v) {
		printf("  %s: never\n", label);
		return;
	}
	t = json_object_get_double(v);
	s = (time_t)t;
	if (t > 1e9 &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", gmtime(&s)))
		printf("  %s: %s\n", label, buf);
	else
		printf("  %s: %s s\n", label, json_object_get_string(v));
}

/* the status byte's bits, ISO 14229-1 names */
static const char *const bits[] = {
	"testFailed",
	"testFailedThisOperationCycle",
	"pendingDTC",
	"confirmedDTC",
	"testNotCompletedSinceLastClear",
	"testFailedSinceLastClear",
	"testNotCompletedThisOperationCycle",
	"warningIndicatorRequested",
};

static void print_status_byte(int st)
{
	const char *sep = "";

	printf("0x%02X (", st);
	for (int i = 0; i < 8; i++)
		if (st & (1 << i)) {
			printf("%s%s", sep, bits[i]);
			sep = " ";
		}
	printf(")");
}

/* whole: every status bit by name on its line, the driver's advice too */
static void print_dtc(struct json_object *d, bool whole)
{
	struct json_object *ff;
	const char *title = str(d, "title");
	int st = atoi(str(d, "status"));

	printf("%s  %s%s%s\n", str(d, "code"), str(d, "severity"),
	       title ? "  " : "", title ? title : "");
	printf("  status: ");
	print_status_byte(st);
	printf("\n");
	for (int i = 0; whole && i < 8; i++)
		printf("    bit %d %-36s %s\n", i, bits[i],
		       st & (1 << i) ? "yes" : "no");
	printf("  occurrences: %s, failed cycles: %s, aging "
	       "cycles: %s\n",
	       str(d, "occurrences"), str(d, "failed_cycles"),
	       str(d, "aging_cycles"));
	print_time("first failure", d, "first_failure");
	print_time("last failure", d, "last_failure");
	if (json_object_object_get_ex(d, "freeze_frame", &ff) &&
	    json_object_object_length(ff) > 0) {
		printf("  freeze frame:\n");
		json_object_object_foreach(ff, k, v)
			printf("    %-28s %s\n", k, json_object_get_string(v));
	}
	if (whole && str(d, "advice"))
		printf("  driver: %s\n", str(d, "advice"));
	if (str(d, "action"))
		printf("  action: %s\n", str(d, "action"));
}

static void print_list(struct json_object *a)
{
	struct json_object *dtcs;
	size_t n;

	if (!json_object_object_get_ex(a, "dtcs", &dtcs))
		return;
	n = json_object_array_length(dtcs);
	if (n == 0)
		printf("no DTCs\n");
	for (size_t i = 0; i < n; i++)
		print_dtc(json_object_array_get_idx(dtcs, i), false);
}

/* show CODE: one DTC of "list all", whole; 1 when dtcd does not know it */
static int print_show(struct json_object *a, const char *code, bool raw)
{
	struct json_object *dtcs;

	if (json_object_object_get_ex(a, "dtcs", &dtcs))
		for (size_t i = 0; i < json_object_array_length(dtcs); i++) {
			struct json_object *d =
				json_object_array_get_idx(dtcs, i);

			if (strcasecmp(str(d, "code"), code))
				continue;
			if (raw)
				puts(json_object_to_json_string_ext(
					d,
					JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE));
			else
				print_dtc(d, true);
			return 0;
		}
	fprintf(stderr, "dtcctl: dtcd knows no DTC %s (dtcctl list all)\n",
		code);
	return 1;
}

static void print_signals(struct json_object *a)
{
	struct json_object *sigs;
	size_t n;

	if (!json_object_object_get_ex(a, "signals", &sigs))
		return;
	n = json_object_array_length(sigs);
	if (n == 0)
		printf("no signals yet\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(sigs, i);
		const char *v = str(s, "value"), *unit = str(s, "unit");

		printf("%-28s %12s %-5s from %s, %s s old\n", str(s, "signal"),
		       v ? v : "(no value)", unit ? unit : "", str(s, "src"),
		       str(s, "age"));
	}
}

static void print_status(struct json_object *a)
{
	json_object_object_foreach(a, k, v)
		printf("%-12s %s\n", k, v ? json_object_get_string(v) : "-");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *path = CONTROL_DEFAULT_PATH, *cmd;
	struct json_object *a;
	char request[256], *line;
	bool raw = false;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			raw = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!((!strcmp(cmd, "list") && argc - optind <= 2) ||
	      (!strcmp(cmd, "clear") && argc - optind <= 2) ||
	      (!strcmp(cmd, "show") && argc - optind == 2) ||
	      (!strcmp(cmd, "capture") && argc - optind == 2) ||
	      (!strcmp(cmd, "signals") && argc - optind == 1) ||
	      (!strcmp(cmd, "status") && argc - optind == 1))) {
		fprintf(stderr, "dtcctl: expected list [all], show CODE, "
				"signals, clear [CODE], capture CODE or "
				"status\n");
		usage(stderr);
		return 2;
	}
	/* show is "list all" read here: the socket's protocol stays as it is */
	if (!strcmp(cmd, "show"))
		snprintf(request, sizeof(request), "list all\n");
	else
		snprintf(request, sizeof(request), "%s%s%s\n", cmd,
			 argc - optind == 2 ? " " : "",
			 argc - optind == 2 ? argv[optind + 1] : "");
	line = ask(path, request);
	if (!line) {
		fprintf(stderr,
			"dtcctl: %s: %s (is dtcd running with a control "
			"socket?)\n",
			path, strerror(errno));
		return 1;
	}
	a = json_tokener_parse(line);
	if (!a) {
		fprintf(stderr, "dtcctl: %s: not a JSON answer: %.80s\n", path,
			line);
		free(line);
		return 1;
	}
	if (str(a, "error")) {
		fprintf(stderr, "dtcctl: %s\n", str(a, "error"));
		rc = 1;
	} else if (!strcmp(cmd, "show")) {
		rc = print_show(a, argv[optind + 1], raw);
	} else if (raw) {
		fputs(line, stdout);
	} else if (!strcmp(cmd, "capture")) {
		/* the log alone on stdout: it goes into a file to replay */
		if (str(a, "note"))
			fprintf(stderr, "dtcctl: %s\n", str(a, "note"));
		fputs(str(a, "log"), stdout);
	} else if (!strcmp(cmd, "list")) {
		print_list(a);
	} else if (!strcmp(cmd, "signals")) {
		print_signals(a);
	} else if (!strcmp(cmd, "clear")) {
		printf("cleared %s\n", !strcmp(str(a, "cleared"), "all") ?
					       "all DTCs" :
					       str(a, "cleared"));
	} else {
		print_status(a);
	}
	json_object_put(a);
	free(line);
	return rc;
}
