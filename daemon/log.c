/* log.c: stderr for people and replays, the journal when run by systemd */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "log.h"

static enum log_target target = LOG_TARGET_STDERR;
static int verbosity;
static const char *ident = "dtcd";

void log_set_ident(const char *name)
{
	ident = name;
}

void log_init(enum log_target t, int v)
{
	target = t;
	verbosity = v;
}

static void vlog(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (target == LOG_TARGET_JOURNAL) {
		if (suffix)
			sd_journal_print(prio, "%s: %s", buf, suffix);
		else
			sd_journal_print(prio, "%s", buf);
		return;
	}
	if (suffix)
		fprintf(stderr, "%s: %s: %s\n", ident, buf, suffix);
	else
		fprintf(stderr, "%s: %s\n", ident, buf);
}

void log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(e));
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 2)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}
