/* test_decoder.c: frames through a profile into canonical signals */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "test_hex.h"

#define MS(x) ((int64_t)(x)*1000000)

struct seen {
	int64_t ts_ns;
	enum signal_id id;
	bool valid;
	double value;
	char text[SIG_VIN_LEN + 1];
	uint32_t src;
};

struct rec {
	struct seen s[64];
	size_t n;
	uint32_t status_ecu;
	int mil_on, dtc_count;
	uint8_t codes_service;
	uint16_t codes[8];
	size_t n_codes;
};

static void on_signal(void *ud, int64_t ts_ns, enum signal_id id,
		      const struct signal_slot *slot)
{
	struct rec *r = ud;

	assert_true(r->n < 64);
	r->s[r->n] = (struct seen){ .ts_ns = ts_ns,
				    .id = id,
				    .valid = slot->valid,
				    .value = slot->value,
				    .src = slot->src };
	memcpy(r->s[r->n].text, slot->text, sizeof(slot->text));
	r->n++;
}

static void on_status(void *ud, int64_t ts_ns, uint32_t ecu, int mil_on,
		      int dtc_count)
{
	struct rec *r = ud;

	r->status_ecu = ecu;
	r->mil_on = mil_on;
	r->dtc_count = dtc_count;
}

static void on_codes(void *ud, int64_t ts_ns, uint32_t ecu, uint8_t service,
		     const uint16_t *codes, size_t n)
{
	struct rec *r = ud;

	r->codes_service = service;
	r->n_codes = n;
	memcpy(r->codes, codes, n * sizeof(*codes));
}

static const struct decoder_ops ops = {
	.signal = on_signal,
	.ecu_status = on_status,
	.ecu_codes = on_codes,
};

struct fixture {
	struct profile *p;
	struct signal_table t;
	struct decoder *d;
	struct rec r;
};

static int setup(void **state, const char *name)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/etc/profiles/%s.ini",
		 getenv("DTCD_SOURCE_ROOT"), name);
	if (profile_load(&f->p, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	signal_table_init(&f->t);
	if (decoder_new(&f->d, f->p, &f->t, &ops, &f->r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

static int setup_bmw(void **state)
{
	return setup(state, "bmw-reference");
}

static int setup_obd(void **state)
{
	return setup(state, "obd2-generic");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	decoder_free(f->d);
	profile_free(f->p);
	free(f);
	return 0;
}

static void feed(struct fixture *f, int64_t ts_ns, uint32_t id, const char *hex)
{
	struct frame fr = { .ts_ns = ts_ns, .id = id };

	fr.len = (uint8_t)from_hex(hex, fr.data, sizeof(fr.data));
	decoder_feed(f->d, &fr);
}

static const struct seen *find(const struct rec *r, enum signal_id id)
{
	for (size_t i = r->n; i-- > 0;)
		if (r->s[i].id == id)
			return &r->s[i];
	fail_msg("no %s decoded", signal_name(id));
	return NULL;
}

/* the E92's own frames: 0x0AA at 0 and 812.5 rpm, 0x1D0 warm-up */
static void test_broadcasts(void **state)
{
	struct fixture *f = *state;

	feed(f, MS(1), 0x0AA, "90F7F8000000F400");
	assert_near(find(&f->r, SIG_ENGINE_SPEED_RPM)->value, 0);
	/* EngineSpeed: bits 32..47 little endian x 0.25: 0x0CB2 = 3250 */
	feed(f, MS(2), 0x0AA, "90F7F800B20C0000");
	assert_near(find(&f->r, SIG_ENGINE_SPEED_RPM)->value, 812.5);
	assert_int_equal(find(&f->r, SIG_ENGINE_SPEED_RPM)->src, 0x0AA);
	/* TEMP_ENG 0x5C - 48 = 44 °C, TEMP_EOI 0x50 - 48 = 32, run state 2 */
	feed(f, MS(3), 0x1D0, "5C50200000000000");
	assert_near(find(&f->r, SIG_COOLANT_TEMP_C)->value, 44);
	assert_near(find(&f->r, SIG_OIL_TEMP_C)->value, 32);
	assert_near(find(&f->r, SIG_ENGINE_RUN_STATE)->value, 2);
	assert_int_equal(f->t.slot[SIG_COOLANT_TEMP_C].ts_ns, MS(3));
	/* an ID the profile does not bind says nothing */
	f->r.n = 0;
	feed(f, MS(4), 0x0A8, "75F7F800000CCF00");
	assert_int_equal(f->r.n, 0);
}

/* UDS over BMW extended addressing: multi-frame answer, then a 7F */
static void test_dids(void **state)
{
	struct fixture *f = *state;

	/* 22 5A 20 -> 62 5A 20 + 4 x int16: 120.0, 118.5, -30.0, -31.2 */
	feed(f, MS(10), 0x6F1, "1203225A20555555");
	feed(f, MS(12), 0x612, "F1100B625A2004B0");
	feed(f, MS(13), 0x6F1, "1230000055555555");
	feed(f, MS(15), 0x612, "F12104A1FED4FEC8");
	assert_near(find(&f->r, SIG_VANOS_INTAKE_TARGET_DEG)->value, 120.0);
	assert_near(find(&f->r, SIG_VANOS_INTAKE_ACTUAL_DEG)->value, 118.5);
	assert_near(find(&f->r, SIG_VANOS_EXHAUST_TARGET_DEG)->value, -30.0);
	assert_near(find(&f->r, SIG_VANOS_EXHAUST_ACTUAL_DEG)->value, -31.2);
	assert_int_equal(find(&f->r, SIG_VANOS_EXHAUST_ACTUAL_DEG)->ts_ns,
			 MS(15));
	assert_int_equal(find(&f->r, SIG_VANOS_EXHAUST_ACTUAL_DEG)->src, 0x612);

	/* 5A30: heater on, 12.34 A; then 7F 22 31: "no value", not zero */
	feed(f, MS(20), 0x6F1, "1203225A30555555");
	feed(f, MS(22), 0x612, "F106625A300104D2");
	assert_true(find(&f->r, SIG_FUEL_HEATER_ON)->valid);
	assert_near(find(&f->r, SIG_FUEL_HEATER_CURRENT_A)->value, 12.34);
	feed(f, MS(30), 0x6F1, "1203225A30555555");
	feed(f, MS(32), 0x612, "F1037F2231555555");
	assert_false(find(&f->r, SIG_FUEL_HEATER_ON)->valid);
	assert_false(find(&f->r, SIG_FUEL_HEATER_CURRENT_A)->valid);
	assert_false(f->t.slot[SIG_FUEL_HEATER_CURRENT_A].valid);
	/* and the table's reader never sees a value */
	double v = -1;
	assert_false(signal_table_get(&f->t, SIG_FUEL_HEATER_CURRENT_A, MS(33),
				      0, &v));
	assert_near(v, -1);
	/* 7F 22 78 "response pending" keeps the last value */
	feed(f, MS(40), 0x6F1, "1203225A40555555");
	feed(f, MS(42), 0x612, "F106625A40320BB8");
	f->r.n = 0;
	feed(f, MS(43), 0x612, "F1037F2278555555");
	assert_int_equal(f->r.n, 0);
}

/* the VIN over three frames, and a bit field */
static void test_vin_and_bits(void **state)
{
	struct fixture *f = *state;

	feed(f, MS(50), 0x6F1, "120322F190555555");
	feed(f, MS(51), 0x612, "F11014 62F190 57 42"); /* 62 F1 90 W B */
	feed(f, MS(52), 0x6F1, "1230000055555555");
	feed(f, MS(53), 0x612, "F1 21 41 50 48 35 43 35"); /* A P H 5 C 5 */
	feed(f, MS(54), 0x612, "F1 22 35 46 42 31 32 33"); /* 5 F B 1 2 3 */
	feed(f, MS(55), 0x612, "F1 23 34 35 36 55 55 55"); /* 4 5 6 */
	assert_string_equal(find(&f->r, SIG_VIN)->text, "WBAPH5C55FB123456");
	/* 5A21 = 0x02: power reduced, no emergency program */
	feed(f, MS(60), 0x6F1, "1203225A21555555");
	feed(f, MS(61), 0x612, "F104625A21025555");
	assert_near(find(&f->r, SIG_ENGINE_EMERGENCY_MODE)->value, 0);
	assert_near(find(&f->r, SIG_ENGINE_POWER_REDUCED)->value, 1);
}

/* bmw-reference takes OBD answers from 0x7E8 only */
static void test_obd_ecu_filter(void **state)
{
	struct fixture *f = *state;

	feed(f, MS(70), 0x7DF, "02010D0000000000");
	feed(f, MS(71), 0x7E8, "03410D32AAAAAAAA");
	assert_near(find(&f->r, SIG_VEHICLE_SPEED_KMH)->value, 50);
	f->r.n = 0;
	feed(f, MS(72), 0x7E9, "03410D40AAAAAAAA");
	assert_int_equal(f->r.n, 0);
}

/* obd2-generic: every ECU, PID 01 status, DTC lists, Mode 06, 7F */
static void test_obd_generic(void **state)
{
	struct fixture *f = *state;

	feed(f, MS(100), 0x7DF, "0201010000000000");
	feed(f, MS(101), 0x7E8, "064101830763A5AA");
	assert_int_equal(f->r.status_ecu, 0x7E8);
	assert_int_equal(f->r.mil_on, 1);
	assert_int_equal(f->r.dtc_count, 3);
	assert_near(find(&f->r, SIG_ECU_MIL_ON)->value, 1);
	assert_near(find(&f->r, SIG_ECU_DTC_COUNT)->value, 3);
	/* 0x7EC answers 0C with its own value: both reach the table */
	feed(f, MS(110), 0x7DF, "02010C0000000000");
	feed(f, MS(111), 0x7E8, "04410C0D42AAAAAA");
	assert_near(find(&f->r, SIG_ENGINE_SPEED_RPM)->value, 848.5);
	feed(f, MS(112), 0x7EC, "04410C0D2EAAAAAA");
	assert_near(find(&f->r, SIG_ENGINE_SPEED_RPM)->value, 843.5);
	assert_int_equal(find(&f->r, SIG_ENGINE_SPEED_RPM)->src, 0x7EC);
	/* Mode 03: two stored codes P0301, P0420 */
	feed(f, MS(120), 0x7DF, "0103000000000000");
	feed(f, MS(121), 0x7E8, "064302030104 20AA");
	assert_int_equal(f->r.codes_service, 0x03);
	assert_int_equal(f->r.n_codes, 2);
	assert_int_equal(f->r.codes[0], 0x0301);
	assert_int_equal(f->r.codes[1], 0x0420);
	/* Mode 06 misfire monitor of cylinder 2: 7 misfires */
	feed(f, MS(130), 0x7DF, "0206A30000000000");
	feed(f, MS(131), 0x7E8, "100A46A30C240007");
	feed(f, MS(132), 0x7E0, "3000000000000000");
	feed(f, MS(133), 0x7E8, "2100000000AAAAAA");
	assert_near(find(&f->r, SIG_MISFIRE_COUNT_CYL_2)->value, 7);
	/* 7F 01 12 to a request for 05: coolant has no value */
	feed(f, MS(140), 0x7DF, "0201050000000000");
	feed(f, MS(141), 0x7E8, "037F0112AAAAAAAA");
	assert_false(find(&f->r, SIG_COOLANT_TEMP_C)->valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_broadcasts, setup_bmw,
						teardown),
		cmocka_unit_test_setup_teardown(test_dids, setup_bmw, teardown),
		cmocka_unit_test_setup_teardown(test_vin_and_bits, setup_bmw,
						teardown),
		cmocka_unit_test_setup_teardown(test_obd_ecu_filter, setup_bmw,
						teardown),
		cmocka_unit_test_setup_teardown(test_obd_generic, setup_obd,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
