/* log_writer.c: the log writers' registry and the candump -l writer */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log_writer.h"

#define CAN_ERR_FLAG 0x20000000U

static const char hex[] = "0123456789ABCDEF";

struct log_writer {
	enum log_writer_format format;
	FILE *out;
};

int log_writer_format_from_name(const char *name, enum log_writer_format *ret)
{
	if (!strcasecmp(name, "candump") || !strcasecmp(name, "log"))
		*ret = LOG_WRITER_CANDUMP;
	else if (!strcasecmp(name, "asc"))
		*ret = LOG_WRITER_ASC;
	else if (!strcasecmp(name, "blf"))
		*ret = LOG_WRITER_BLF;
	else
		return -EINVAL;
	return 0;
}

enum log_writer_format log_writer_format_of_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	enum log_writer_format f = LOG_WRITER_CANDUMP;

	if (dot && !strchr(dot, '/'))
		log_writer_format_from_name(dot + 1, &f);
	return f;
}

static char *put_hex(char *p, uint32_t v, int digits)
{
	for (int s = 4 * (digits - 1); s >= 0; s -= 4)
		*p++ = hex[(v >> s) & 0xF];
	return p;
}

/* as can-utils' sprint_canframe() and candump -l write it */
size_t log_writer_candump_line(const struct frame *f, char *buf)
{
	uint64_t us = f->ts_ns >= 0 ? (uint64_t)f->ts_ns / 1000 : 0;
	char *p = buf + sprintf(buf, "(%" PRIu64 ".%06" PRIu64 ") %s ",
				us / 1000000, us % 1000000,
				f->iface[0] ? f->iface : "can0");
	unsigned len = f->len;

	if (f->flags & FRAME_ERR)
		p = put_hex(p, f->id | CAN_ERR_FLAG, 8);
	else if (f->flags & FRAME_EFF)
		p = put_hex(p, f->id, 8);
	else
		p = put_hex(p, f->id, 3);
	*p++ = '#';
	if (f->flags & FRAME_RTR) {
		*p++ = 'R';
		if (len && len <= 8)
			*p++ = hex[len];
	} else if (f->flags & FRAME_FD) {
		*p++ = '#';
		*p++ = hex[((f->flags & FRAME_BRS) ? 1 : 0) |
			   ((f->flags & FRAME_ESI) ? 2 : 0)];
		len = len > FRAME_MAX_DATA ? FRAME_MAX_DATA : len;
	} else if (len > 8) {
		len = 8;
	}
	if (!(f->flags & FRAME_RTR))
		for (unsigned i = 0; i < len; i++) {
			*p++ = hex[f->data[i] >> 4];
			*p++ = hex[f->data[i] & 0xF];
		}
	if (!(f->flags & FRAME_FD) && f->len8_dlc > 8 && f->len8_dlc <= 15 &&
	    f->len == 8) {
		*p++ = '_';
		*p++ = hex[f->len8_dlc];
	}
	if (f->dir) {
		*p++ = ' ';
		*p++ = f->dir;
	}
	*p++ = '\n';
	*p = '\0';
	return (size_t)(p - buf);
}

int log_writer_new(struct log_writer **ret, FILE *out,
		   enum log_writer_format format)
{
	struct log_writer *w;

	if (format != LOG_WRITER_CANDUMP)
		return -EOPNOTSUPP;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->format = format;
	w->out = out;
	*ret = w;
	return 0;
}

int log_writer_put(struct log_writer *w, const struct frame *f)
{
	char line[LOG_WRITER_LINE_MAX];
	size_t n = log_writer_candump_line(f, line);

	return fwrite(line, 1, n, w->out) == n ? 0 : -EIO;
}

int log_writer_finish(struct log_writer *w)
{
	return fflush(w->out) || ferror(w->out) ? -EIO : 0;
}

void log_writer_free(struct log_writer *w)
{
	free(w);
}
