/* fuzz_obd.c: OBD-II (SAE J1979) answer decoding */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "obd.h"

/*
 * Input: a complete answer as ISO-TP delivers it (41 .., 43 .., 46 ..,
 * 7F ...). Every callback checks what it is given; the first two bytes
 * also name a PID field ("value", "mil_on" ...) to look up.
 */
static void pid_value(void *userdata, uint8_t pid, unsigned field, double value)
{
	FUZZ_ASSERT(!isnan(value));
	FUZZ_ASSERT(field < 8);
}

static void dtc_list(void *userdata, uint8_t service, const uint16_t *codes,
		     size_t n)
{
	char buf[6];

	FUZZ_ASSERT(service == 0x03 || service == 0x07 || service == 0x0A);
	for (size_t i = 0; i < n; i++) {
		obd_dtc_format(codes[i], buf);
		FUZZ_ASSERT(strlen(buf) == 5);
	}
}

static void monitor(void *userdata, uint8_t mid, uint8_t tid, uint8_t uasid,
		    double value, double min, double max)
{
	FUZZ_ASSERT(!isnan(value) && !isnan(min) && !isnan(max));
}

static void negative(void *userdata, uint8_t service, uint8_t nrc)
{
}

static const struct obd_ops ops = {
	.pid_value = pid_value,
	.dtc_list = dtc_list,
	.monitor = monitor,
	.negative = negative,
};

static const char *const fields[] = {
	"value",	   "mil_on",	    "dtc_count",
	"sensors_present", "egr_temp_b1s1", "egr_temp_b1s2",
	"egr_temp_b2s1",   "egr_temp_b2s2", "",
	"VALUE",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct obd_ops none = { 0 };
	int r;

	r = obd_decode(data, size, &ops, NULL);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP);
	/* the same answer to a user of none of the callbacks */
	FUZZ_ASSERT(obd_decode(data, size, &none, NULL) == r);
	if (size >= 2) {
		r = obd_pid_field(data[0], fields[data[1] % 10]);
		FUZZ_ASSERT(r >= -1 && r < 8);
	}
	return 0;
}
