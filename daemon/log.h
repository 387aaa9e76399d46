/* log.h: OpenBSD-style logging to stderr or the systemd journal */
#pragma once

#include <stdbool.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_JOURNAL };

void log_init(enum log_target target, int verbosity);
/* the program name before each stderr line (default "dtcd") */
void log_set_ident(const char *name);
/* with strerror(errno) appended, as log_warn(3) in OpenBSD daemons */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
