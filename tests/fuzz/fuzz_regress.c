/* fuzz_regress.c: runs a fuzz target over files, as the normal test suite */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/*
 * usage: fuzz_TARGET_regress PATH... -- each PATH a file or a directory of
 * files (not recursive). Every file is one input, as libFuzzer would give
 * it; a crash or a failed check aborts with the file named first.
 */
static int run_file(const char *path, unsigned long *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0) {
		fclose(f);
		return -1;
	}
	rewind(f);
	/* one spare byte: a zero-length input is still a valid buffer */
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "%s\n", path);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **names;
		int n;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc |= run_file(argv[i], &count);
			continue;
		}
		n = scandir(argv[i], &names, NULL, alphasort);
		if (n < 0)
			return 1;
		for (int j = 0; j < n; j++) {
			char path[4096];

			if (names[j]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i],
					 names[j]->d_name);
				rc |= run_file(path, &count);
			}
			free(names[j]);
		}
		free(names);
	}
	printf("%lu inputs, no crash\n", count);
	return rc ? 1 : 0;
}
