/* log_reader.h: CAN logs of any supported format, chosen by their content */
#pragma once

#include <stdint.h>

#include "candump.h"
#include "frame.h"

struct log_reader;

/*
 * path "-" is stdin. A file is read as Vector BLF (it begins with "LOGG"),
 * Vector ASC (an ASC header or event line), or else a candump log. stdin is
 * read as candump unless it is a regular file (a pipe cannot be looked into
 * before it is read). Errors are reported as candump's are: path, position
 * (line, or object number in BLF), what was expected. 0 or -errno.
 */
int log_reader_open(struct log_reader **ret, const char *path,
		    candump_error_fn on_error, void *userdata);
/* 1 with *ret_frame, 0 at the end, -errno on a read error */
int log_reader_next(struct log_reader *r, struct frame *ret_frame);
unsigned long log_reader_position(const struct log_reader *r);
unsigned long log_reader_errors(const struct log_reader *r);
/* bytes read so far (read-ahead included) and the file's size; size 0
 * when it has none (a pipe) */
void log_reader_progress(const struct log_reader *r, uint64_t *ret_done,
			 uint64_t *ret_size);
/* "candump", "asc" or "blf" */
const char *log_reader_format(const struct log_reader *r);
/* Takes NULL. */
void log_reader_free(struct log_reader *r);
