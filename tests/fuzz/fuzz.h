/* fuzz.h: what the libFuzzer targets and their regression runner share */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Each target defines LLVMFuzzerTestOneInput; libFuzzer (-Dfuzz=true) or
 * fuzz_regress.c (the normal test suite, every file of the seed corpus and
 * of regress/) calls it. A target aborts on what a sanitizer does not see
 * itself: two parsers that disagree, a bound broken.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() with what was expected; a finding for libFuzzer */
#define FUZZ_ASSERT(cond)                                     \
	do {                                                  \
		if (!(cond))                                  \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/*
 * A file holding the input, for loaders that take a path: a memfd named by
 * /proc/self/fd. Returns the path in buf (valid until fuzz_file_close).
 */
int fuzz_file(const uint8_t *data, size_t size, char *buf, size_t len);
void fuzz_file_close(int fd);
