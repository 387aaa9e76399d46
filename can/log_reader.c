/* log_reader.c: the log format registry and the reader that sniffs it */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_format.h"
#include "log_reader.h"

static const struct log_format_ops *const registry[] = {
	&log_blf_ops,
	&log_asc_ops,
	&log_candump_ops,
};

#define N_FORMATS (sizeof(registry) / sizeof(registry[0]))
#define SNIFF_BYTES 1024

struct log_reader {
	const struct log_format_ops *ops;
	void *state;
	FILE *f;
	bool own;
	char *path;
};

void log_source_init(struct log_source *s, FILE *f, const char *path,
		     candump_error_fn on_error, void *userdata)
{
	s->f = f;
	s->path = path;
	s->on_error = on_error;
	s->userdata = userdata;
}

void log_source_report(struct log_source *s, const char *what)
{
	s->errors++;
	if (s->on_error)
		s->on_error(s->userdata, s->path, s->position, what);
}

unsigned long log_source_position(const void *state)
{
	return ((const struct log_source *)state)->position;
}

unsigned long log_source_errors(const void *state)
{
	return ((const struct log_source *)state)->errors;
}

/* pread: looks without moving the offset, so each reader starts at 0 */
static const struct log_format_ops *sniff(int fd)
{
	uint8_t head[SNIFF_BYTES];
	ssize_t n = pread(fd, head, sizeof(head), 0);

	if (n > 0)
		for (size_t i = 0; i < N_FORMATS; i++)
			if (registry[i]->sniff &&
			    registry[i]->sniff(head, (size_t)n))
				return registry[i];
	return &log_candump_ops;
}

int log_reader_open(struct log_reader **ret, const char *path,
		    candump_error_fn on_error, void *userdata)
{
	struct log_reader *r = calloc(1, sizeof(*r));
	struct stat st;
	int e;

	if (!r)
		return -ENOMEM;
	r->path = strdup(path);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "re");
		if (!r->f) {
			e = -errno;
			log_reader_free(r);
			return e;
		}
		r->own = true;
	}
	r->ops = &log_candump_ops;
	if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode))
		r->ops = sniff(fileno(r->f));
	e = r->ops->open(&r->state, r->f, r->path, on_error, userdata);
	if (e < 0) {
		r->state = NULL;
		log_reader_free(r);
		return e;
	}
	*ret = r;
	return 0;
}

int log_reader_next(struct log_reader *r, struct frame *ret_frame)
{
	return r->ops->next(r->state, ret_frame);
}

unsigned long log_reader_position(const struct log_reader *r)
{
	return r->ops->position(r->state);
}

unsigned long log_reader_errors(const struct log_reader *r)
{
	return r->ops->errors(r->state);
}

void log_reader_progress(const struct log_reader *r, uint64_t *ret_done,
			 uint64_t *ret_size)
{
	struct stat st;
	off_t at = lseek(fileno(r->f), 0, SEEK_CUR);

	*ret_done = at > 0 ? (uint64_t)at : 0;
	*ret_size = fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode) ?
			    (uint64_t)st.st_size :
			    0;
}

const char *log_reader_format(const struct log_reader *r)
{
	return r->ops->name;
}

void log_reader_free(struct log_reader *r)
{
	if (!r)
		return;
	if (r->state)
		r->ops->free(r->state);
	if (r->own && r->f)
		fclose(r->f);
	free(r->path);
	free(r);
}
