/* fuzz_pipeline.c: the whole pipeline of dtcd --replay from candump text */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candump.h"
#include "config.h"
#include "dtcd-build.h"
#include "fuzz.h"
#include "output_json.h"
#include "pipeline.h"
#include "profile.h"

/*
 * Input: one byte choosing the profile (the reference BMW, generic OBD-II)
 * and --signals or diagnosis, then a candump log. Every decoder, detector
 * and the DTC manager run as dtcd --replay --json runs them, without a
 * state directory; the JSON goes to /dev/null.
 */
static struct config *cfg;
static struct profile *profiles[2];
static FILE *devnull;

static void load_once(void)
{
	static const char *const names[2] = { "bmw-reference", "obd2-generic" };
	char path[4096], err[512];

	if (cfg)
		return;
	FUZZ_ASSERT(config_load(&cfg, NULL, err, sizeof(err)) == 0);
	FUZZ_ASSERT(config_set(&cfg->etc_dir, DTCD_SOURCE_ETC) == 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/profiles/%s.ini",
			 DTCD_SOURCE_ETC, names[i]);
		if (profile_load(&profiles[i], path, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
	}
	devnull = fopen("/dev/null", "we");
	FUZZ_ASSERT(devnull);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline_options o = { 0 };
	struct candump_reader *r;
	struct pipeline *p;
	struct frame f;
	char err[512];
	FILE *stream;

	if (size < 2)
		return 0;
	load_once();
	o.cfg = cfg;
	o.profile = profiles[data[0] & 1];
	o.signals_only = data[0] & 2;
	FUZZ_ASSERT(output_json_new(&o.outputs[o.n_outputs++], devnull) == 0);
	if (pipeline_new(&p, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	stream = fmemopen((void *)(data + 1), size - 1, "r");
	FUZZ_ASSERT(stream);
	FUZZ_ASSERT(candump_reader_from_stream(&r, stream, "fuzz", NULL,
					       NULL) == 0);
	while (candump_reader_next(r, &f) > 0)
		pipeline_feed(p, &f);
	pipeline_finish(p);
	candump_reader_free(r);
	fclose(stream);
	pipeline_free(p);
	return 0;
}
