/* log_candump.c: the candump format in the log format registry */
#include "log_format.h"

static bool candump_sniff(const uint8_t *head, size_t len)
{
	/* the default: anything the other formats do not claim */
	(void)head;
	(void)len;
	return true;
}

static int candump_open(void **ret, FILE *f, const char *path,
			candump_error_fn on_error, void *userdata)
{
	return candump_reader_from_stream((struct candump_reader **)ret, f,
					  path, on_error, userdata);
}

static int candump_next(void *state, struct frame *ret_frame)
{
	return candump_reader_next(state, ret_frame);
}

static unsigned long candump_position(const void *state)
{
	return candump_reader_line(state);
}

static unsigned long candump_errors(const void *state)
{
	return candump_reader_errors(state);
}

static void candump_free(void *state)
{
	candump_reader_free(state);
}

const struct log_format_ops log_candump_ops = {
	.name = "candump",
	.sniff = candump_sniff,
	.open = candump_open,
	.next = candump_next,
	.position = candump_position,
	.errors = candump_errors,
	.free = candump_free,
};
