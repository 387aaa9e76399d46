/* fuzz_ingest.c: dtc-collect's parser of what cars publish (collect/ingest.c)
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ingest.h"

/*
 * Input: one byte choosing the topic (events, status, online), then the
 * payload as MQTT hands it over (not NUL-terminated: copied without one).
 * A rejected payload says why; an accepted one holds what the database
 * relies on: a vehicle id fit for a topic level, an event_id >= 0, a status
 * byte, a DTC list of objects with a code.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	char *p;
	int r;

	if (size < 1)
		return 0;
	p = malloc(size - 1 ? size - 1 : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: {
		struct ingest_event ev;

		r = ingest_event(p, size - 1, &ev, err, sizeof(err));
		FUZZ_ASSERT(r == 0 || (r < 0 && err[0]));
		if (r == 0) {
			FUZZ_ASSERT(ingest_id_valid(ev.vehicle));
			FUZZ_ASSERT(ev.event_id >= 0);
			FUZZ_ASSERT(ev.status >= -1 && ev.status <= 255);
			FUZZ_ASSERT(ev.event[0] && strlen(ev.event) <= 32);
			FUZZ_ASSERT(ev.ts >= 0);
			ingest_event_free(&ev);
		}
		break;
	}
	case 1: {
		struct ingest_status st;

		r = ingest_status(p, size - 1, &st, err, sizeof(err));
		FUZZ_ASSERT(r == 0 || (r < 0 && err[0]));
		if (r == 0) {
			FUZZ_ASSERT(ingest_id_valid(st.vehicle));
			for (size_t i = 0;
			     i < json_object_array_length(st.dtcs); i++) {
				struct json_object *d =
					json_object_array_get_idx(st.dtcs, i);

				FUZZ_ASSERT(json_object_is_type(
					json_object_object_get(d, "code"),
					json_type_string));
			}
			ingest_status_free(&st);
		}
		break;
	}
	default:
		r = ingest_online(p, size - 1);
		FUZZ_ASSERT(r == -22 || r == 0 || r == 1);
		FUZZ_ASSERT((r == 1) ==
			    (size - 1 == 6 && !memcmp(p, "online", 6)));
	}
	free(p);
	return 0;
}
