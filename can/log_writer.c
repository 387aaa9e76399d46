/* log_writer.c: the log writers' registry and the candump -l writer */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log_format.h"
#include "log_writer.h"

#define CAN_ERR_FLAG 0x20000000U

static const char hex[] = "0123456789ABCDEF";

struct log_writer {
	const struct log_writer_ops *ops;
	void *state;
};

static int candump_open(void **ret_state, FILE *f)
{
	*ret_state = f;
	return 0;
}

static int candump_put(void *state, const struct frame *f)
{
	char line[LOG_WRITER_LINE_MAX];
	size_t n = log_writer_candump_line(f, line);

	return fwrite(line, 1, n, state) == n ? 0 : -EIO;
}

static int candump_finish(void *state)
{
	return fflush(state) || ferror(state) ? -EIO : 0;
}

static void candump_free(void *state)
{
	(void)state;
}

static const struct log_writer_ops candump_writer_ops = {
	.name = "candump",
	.open = candump_open,
	.put = candump_put,
	.finish = candump_finish,
	.free = candump_free,
};

uint8_t log_format_fd_dlc(unsigned len)
{
	static const uint8_t top[] = { 12, 16, 20, 24, 32, 48 };
	uint8_t dlc = 9;

	if (len <= 8)
		return (uint8_t)len;
	for (size_t i = 0; i < sizeof(top); i++, dlc++)
		if (len <= top[i])
			return dlc;
	return 15;
}

uint8_t log_format_classic_dlc(const struct frame *f)
{
	if (f->len == 8 && f->len8_dlc > 8 && f->len8_dlc <= 15)
		return f->len8_dlc;
	return f->len > 8 ? 8 : f->len;
}

int64_t log_format_start(int64_t ns)
{
	int64_t r = ns % 1000000;

	return ns - (r < 0 ? r + 1000000 : r);
}

/* by enum log_writer_format */
static const struct log_writer_ops *const writers[] = {
	&candump_writer_ops,
	&log_asc_writer_ops,
	&log_blf_writer_ops,
};

unsigned log_format_channel(const char *iface)
{
	size_t n = strlen(iface), i = n;

	while (i > 0 && iface[i - 1] >= '0' && iface[i - 1] <= '9')
		i--;
	return i < n && n - i < 6 ? (unsigned)atoi(iface + i) + 1 : 1;
}

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
	/* a time before 1970 as the unsigned microseconds it was read from
	 * (a log whose clock went back past 0 wraps: candump.c reads it back
	 * negative) */
	uint64_t us = (uint64_t)(f->ts_ns / 1000 - (f->ts_ns % 1000 < 0));
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
	int r;

	if ((size_t)format >= sizeof(writers) / sizeof(writers[0]))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ops = writers[format];
	r = w->ops->open(&w->state, out);
	if (r < 0) {
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

int log_writer_put(struct log_writer *w, const struct frame *f)
{
	return w->ops->put(w->state, f);
}

int log_writer_finish(struct log_writer *w)
{
	return w->ops->finish(w->state);
}

void log_writer_free(struct log_writer *w)
{
	if (!w)
		return;
	w->ops->free(w->state);
	free(w);
}
