/* fuzz_loaders.c: the profile, dtcd.conf, dtc.ini and catalogue loaders */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "config.h"
#include "fuzz.h"
#include "manager.h"
#include "profile.h"

/*
 * Input: one byte choosing the loader, then the file. A bad file must give
 * -errno with "FILE:LINE: ..." (never a crash, never an empty message); a
 * good one must free cleanly.
 */
static void check_error(int r, const char *err, const char *path)
{
	FUZZ_ASSERT(r < 0);
	FUZZ_ASSERT(err[0] != 0);
	FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0);
}

static void no_event(void *userdata, const struct dtc_event *ev)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512] = "";
	int fd, r;

	if (size < 1)
		return 0;
	fd = fuzz_file(data + 1, size - 1, path, sizeof(path));
	switch (data[0] & 3) {
	case 0: {
		struct profile *p = NULL;

		r = profile_load(&p, path, err, sizeof(err));
		if (r < 0 && r != -ENOMEM)
			check_error(r, err, path);
		profile_free(p);
		break;
	}
	case 1: {
		struct config *c = NULL;

		r = config_load(&c, path, err, sizeof(err));
		if (r < 0 && r != -ENOMEM)
			check_error(r, err, path);
		config_free(c);
		break;
	}
	case 2: {
		struct dtc_manager *m = NULL;

		r = dtc_manager_new(&m, path, NULL, no_event, NULL, err,
				    sizeof(err));
		if (r < 0 && r != -ENOMEM)
			FUZZ_ASSERT(err[0] != 0);
		dtc_manager_free(m);
		break;
	}
	default: {
		struct catalogue *c = NULL;

		r = catalogue_load(&c, path, "en", err, sizeof(err));
		if (r < 0 && r != -ENOMEM)
			FUZZ_ASSERT(err[0] != 0);
		catalogue_free(c);
		break;
	}
	}
	fuzz_file_close(fd);
	return 0;
}
