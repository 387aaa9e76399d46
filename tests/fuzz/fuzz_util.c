/* fuzz_util.c: helpers of the fuzz targets (fuzz.h) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: expected %s\n", file, line, what);
	abort();
}

int fuzz_file(const uint8_t *data, size_t size, char *buf, size_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			perror("memfd write");
			abort();
		}
		off += (size_t)n;
	}
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return fd;
}

void fuzz_file_close(int fd)
{
	close(fd);
}
