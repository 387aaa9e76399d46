/* capture.h: an evidence capsule from the store as a candump log */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct dtc_store;

/* what the capsule written was */
struct capture_info {
	char events[32];
	double event_ts, start_ts, end_ts; /* s */
	unsigned long frames;
	unsigned long cut; /* left out: beyond the capsule's bound */
	bool ring_cut;	   /* the start was no longer in memory */
	bool complete;	   /* the after window was whole */
};

/*
 * The latest capsule of code as candump -l lines to out. 0, -ENOENT when
 * the store holds none for code, -EBADMSG for a damaged one, -EIO.
 */
int capture_write(struct dtc_store *s, const char *code, FILE *out,
		  struct capture_info *ret_info);
/* "" or the sentence that says what the capsule lacks (truncated...) */
void capture_note(const char *code, const struct capture_info *info, char *buf,
		  size_t len);

/* dtcd --capture CODE --state DIR: the store opened read-side, the log to
 * stdout, the note to stderr; 0 or -errno */
int capture_run(const char *state_dir, const char *code);
