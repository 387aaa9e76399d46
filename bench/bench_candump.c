/* bench_candump.c: frames per second of the candump log reader */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "candump.h"

/*
 * usage: bench_candump FILE|- [ROUNDS]
 * Reads FILE ROUNDS times (default 3), touching every frame so nothing is
 * optimised away, and prints the best round's frames/s. Compare with
 * "time log2long < FILE > /dev/null" (can-utils) on the same file.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long frames = 0, errors = 0, sum = 0;
	double best = 0;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, i, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_candump FILE|- [ROUNDS]\n");
		return 2;
	}
	if (strcmp(argv[1], "-") == 0)
		rounds = 1;
	for (i = 0; i < rounds; i++) {
		struct candump_reader *r;
		struct frame f;
		double t0, dt;

		ret = candump_reader_open(&r, argv[1], NULL, NULL);
		if (ret < 0) {
			fprintf(stderr, "%s: %s\n", argv[1], strerror(-ret));
			return 1;
		}
		frames = 0;
		t0 = now();
		while ((ret = candump_reader_next(r, &f)) > 0) {
			frames++;
			sum += f.id + f.data[0];
		}
		dt = now() - t0;
		errors = candump_reader_errors(r);
		candump_reader_free(r);
		if (ret < 0) {
			fprintf(stderr, "%s: %s\n", argv[1], strerror(-ret));
			return 1;
		}
		if (dt > 0 && frames / dt > best)
			best = frames / dt;
	}
	printf("%s: %lu frames, %lu errors, best of %d: %.0f frames/s "
	       "(checksum %lu)\n",
	       argv[1], frames, errors, rounds, best, sum);
	return 0;
}
