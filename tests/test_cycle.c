/* test_cycle.c: operation and warm-up cycles of spec section 2 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cycle.h"
#include "macro.h"

#define S(x) ((int64_t)((x)*1e9))

struct step {
	double t;
	enum signal_id id;
	double value; /* NAN-free: ticks use id SIG_INVALID */
	enum cycle_change expect;
};

struct cycle_case {
	const char *name;
	struct step steps[16];
	size_t n;
	bool warmup; /* expected kind of the last ended cycle */
};

static const struct cycle_case cases[] = {
	{ "rpm must hold 1 s before the cycle starts",
	  { { 0.0, SIG_ENGINE_SPEED_RPM, 450, CYCLE_NONE },
	    { 0.5, SIG_ENGINE_SPEED_RPM, 800, CYCLE_NONE },
	    { 0.99, SIG_ENGINE_SPEED_RPM, 800, CYCLE_NONE },
	    { 1.0, SIG_ENGINE_SPEED_RPM, 800, CYCLE_STARTED },
	    { 2.0, SIG_ENGINE_SPEED_RPM, 40, CYCLE_NONE },
	    { 3.9, SIG_INVALID, 0, CYCLE_NONE },
	    { 4.0, SIG_INVALID, 0, CYCLE_ENDED } },
	  7,
	  false },
	{ "a dip below 400 rpm restarts the start timer",
	  { { 0.0, SIG_ENGINE_SPEED_RPM, 450, CYCLE_NONE },
	    { 0.8, SIG_ENGINE_SPEED_RPM, 300, CYCLE_NONE },
	    { 1.2, SIG_ENGINE_SPEED_RPM, 450, CYCLE_NONE },
	    { 2.1, SIG_ENGINE_SPEED_RPM, 450, CYCLE_NONE },
	    { 2.2, SIG_ENGINE_SPEED_RPM, 450, CYCLE_STARTED } },
	  5,
	  false },
	{ "run state 2 starts at once, run state 0 stops after 2 s",
	  { { 0.0, SIG_ENGINE_RUN_STATE, 1, CYCLE_NONE },
	    { 0.1, SIG_ENGINE_RUN_STATE, 2, CYCLE_STARTED },
	    { 5.0, SIG_ENGINE_RUN_STATE, 0, CYCLE_NONE },
	    { 6.0, SIG_ENGINE_RUN_STATE, 0, CYCLE_NONE },
	    { 7.0, SIG_ENGINE_RUN_STATE, 0, CYCLE_ENDED } },
	  5,
	  false },
	{ "a stall shorter than 2 s does not end the cycle",
	  { { 0.0, SIG_ENGINE_RUN_STATE, 2, CYCLE_STARTED },
	    { 1.0, SIG_ENGINE_RUN_STATE, 0, CYCLE_NONE },
	    { 2.5, SIG_ENGINE_RUN_STATE, 2, CYCLE_NONE },
	    { 5.0, SIG_INVALID, 0, CYCLE_NONE } },
	  4,
	  false },
	{ "warm-up: coolant rose 22 °C and reached 70 °C",
	  { { 0.0, SIG_COOLANT_TEMP_C, 50, CYCLE_NONE },
	    { 0.1, SIG_ENGINE_RUN_STATE, 2, CYCLE_STARTED },
	    { 100, SIG_COOLANT_TEMP_C, 72, CYCLE_NONE },
	    { 200, SIG_ENGINE_RUN_STATE, 0, CYCLE_NONE },
	    { 202, SIG_INVALID, 0, CYCLE_ENDED } },
	  5,
	  true },
	{ "no warm-up: rose 22 °C but stayed below 70 °C",
	  { { 0.0, SIG_COOLANT_TEMP_C, 20, CYCLE_NONE },
	    { 0.1, SIG_ENGINE_RUN_STATE, 2, CYCLE_STARTED },
	    { 100, SIG_COOLANT_TEMP_C, 69, CYCLE_NONE },
	    { 200, SIG_ENGINE_RUN_STATE, 0, CYCLE_NONE },
	    { 202, SIG_INVALID, 0, CYCLE_ENDED } },
	  5,
	  false },
	{ "no warm-up: hot engine restarted, rose less than 22 °C",
	  { { 0.0, SIG_COOLANT_TEMP_C, 80, CYCLE_NONE },
	    { 0.1, SIG_ENGINE_RUN_STATE, 2, CYCLE_STARTED },
	    { 100, SIG_COOLANT_TEMP_C, 95, CYCLE_NONE },
	    { 200, SIG_ENGINE_RUN_STATE, 0, CYCLE_NONE },
	    { 202, SIG_INVALID, 0, CYCLE_ENDED } },
	  5,
	  false },
};

static void test_cycle_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct cycle_case *tc = &cases[i];
		struct cycle c;

		cycle_init(&c, NULL);
		for (size_t j = 0; j < tc->n; j++) {
			const struct step *s = &tc->steps[j];
			enum cycle_change got;

			if (s->id == SIG_INVALID)
				got = cycle_on_tick(&c, S(s->t));
			else
				got = cycle_on_signal(&c, S(s->t), s->id,
						      s->value);
			if (got != s->expect)
				fail_msg("%s: step %zu: got %d, want %d",
					 tc->name, j, got, s->expect);
		}
		if (cycle_last_was_warmup(&c) != tc->warmup)
			fail_msg("%s: warm-up %d, want %d", tc->name,
				 cycle_last_was_warmup(&c), tc->warmup);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cycle_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
