/* test_catalogue.c: workshop actions in English and German, parse errors */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalogue.h"

/* spec section 3: every code with its catalogue severity */
static const struct {
	const char *code;
	enum dtc_severity sev;
	int recall; /* index into recalls[] */
} spec_codes[] = {
	{ "P0300", DTC_SEVERITY_HIGH, 0 },
	{ "P0301", DTC_SEVERITY_HIGH, 0 },
	{ "P0302", DTC_SEVERITY_HIGH, 0 },
	{ "P0303", DTC_SEVERITY_HIGH, 0 },
	{ "P0304", DTC_SEVERITY_HIGH, 0 },
	{ "P0305", DTC_SEVERITY_HIGH, 0 },
	{ "P0306", DTC_SEVERITY_HIGH, 0 },
	{ "P0011", DTC_SEVERITY_MEDIUM, 1 },
	{ "P0014", DTC_SEVERITY_MEDIUM, 1 },
	{ "P1D01", DTC_SEVERITY_CRITICAL, 1 },
	{ "P1D02", DTC_SEVERITY_CRITICAL, 2 },
	{ "P1D03", DTC_SEVERITY_HIGH, 2 },
	{ "P2600", DTC_SEVERITY_HIGH, 3 },
	{ "P1D04", DTC_SEVERITY_HIGH, 3 },
	{ "P2457", DTC_SEVERITY_HIGH, 4 },
	{ "P1D05", DTC_SEVERITY_CRITICAL, 4 },
};

/* spec section 4: the facts each action must carry, per language */
struct recall {
	const char *facts[2][4]; /* [en, de][up to 4 phrases] */
};

static const struct recall recalls[] = {
	{ { { "April 2012", "12137638477", "0.5 hours", "free of charge" },
	    { "April 2012", "12137638477", "0,5", "kostenlos" } } },
	{ { { "May 2014", "4 hours", "free of charge", "bolts" },
	    { "Mai 2014", "4 Stunden", "kostenlos", "Schrauben" } } },
	{ { { "August 2013", "2 hours", "free of charge", "heater" },
	    { "August 2013", "2", "kostenlos", "Heizung" } } },
	{ { { "October 2011", "1 hour", "free of charge", "pump" },
	    { "Oktober 2011", "1 Stunde", "kostenlos", "Pumpe" } } },
	{ { { "EGR", "free of charge", "earlier", NULL },
	    { "AGR", "kostenlos", "früheren", NULL } } },
};

static const char *const langs[] = { "en", "de" };

static const char *etc_dir(void)
{
	static char dir[512];
	const char *root = getenv("DTCD_SOURCE_ROOT");

	assert_non_null(root);
	snprintf(dir, sizeof(dir), "%s/etc", root);
	return dir;
}

static struct catalogue *load(const char *lang)
{
	struct catalogue *c = NULL;
	char err[512];

	if (catalogue_load(&c, etc_dir(), lang, err, sizeof(err)) < 0)
		fail_msg("catalogue_load %s: %s", lang, err);
	return c;
}

static void test_every_spec_code(void **state)
{
	for (int l = 0; l < 2; l++) {
		struct catalogue *c = load(langs[l]);

		assert_int_equal(catalogue_count(c),
				 sizeof(spec_codes) / sizeof(*spec_codes));
		for (size_t i = 0; i < sizeof(spec_codes) / sizeof(*spec_codes);
		     i++) {
			const struct catalogue_entry *e =
				catalogue_find(c, spec_codes[i].code);
			const struct recall *r = &recalls[spec_codes[i].recall];

			if (!e)
				fail_msg("%s: no %s", langs[l],
					 spec_codes[i].code);
			assert_int_equal(e->severity, spec_codes[i].sev);
			assert_true(strlen(e->title) > 10);
			assert_true(strlen(e->description) > 40);
			assert_true(strlen(e->driver_advice) > 40);
			for (int f = 0; f < 4 && r->facts[l][f]; f++)
				if (!strstr(e->action, r->facts[l][f]))
					fail_msg("%s %s: action lacks '%s': %s",
						 langs[l], e->code,
						 r->facts[l][f], e->action);
			/* recommend the check by VIN, never claim */
			assert_non_null(strstr(
				e->action, l ? "Fahrgestellnummer" : "VIN"));
			assert_null(strstr(e->action, l ? "ist betroffen" :
							  "is affected"));
		}
		assert_null(catalogue_find(c, "P9999"));
		catalogue_free(c);
	}
}

/* the fire risks tell the driver so, in both languages */
static void test_fire_advice(void **state)
{
	static const char *const fire[] = { "P1D02", "P1D04", "P1D05" };
	struct catalogue *en = load("en"), *de = load("de");

	for (size_t i = 0; i < 3; i++) {
		assert_non_null(strstr(
			catalogue_find(en, fire[i])->driver_advice, "fire"));
		assert_non_null(
			strstr(catalogue_find(de, fire[i])->driver_advice,
			       "Feuerwehr"));
	}
	assert_non_null(strstr(catalogue_find(en, "P1D05")->driver_advice,
			       "switch the engine off"));
	/* two languages, not one text twice */
	for (size_t i = 0; i < catalogue_count(en); i++) {
		const struct catalogue_entry *e = catalogue_at(en, i);

		assert_string_not_equal(e->title,
					catalogue_find(de, e->code)->title);
	}
	assert_null(catalogue_at(en, catalogue_count(en)));
	catalogue_free(en);
	catalogue_free(de);
	catalogue_free(NULL);
}

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_catalogue.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_continuation_and_file_path(void **state)
{
	char *path = write_tmp("# a comment\n"
			       "[P0301]\n"
			       "title = Misfire\n"
			       "description = one\n"
			       "  two\n"
			       "\tthree\n"
			       "severity = low\n"
			       "driver_advice = drive on\n"
			       "action = check it\n");
	struct catalogue *c = NULL;
	char err[256];

	assert_int_equal(catalogue_load(&c, path, "en", err, sizeof(err)), 0);
	assert_string_equal(catalogue_find(c, "P0301")->description,
			    "one two three");
	assert_int_equal(catalogue_find(c, "P0301")->severity,
			 DTC_SEVERITY_LOW);
	catalogue_free(c);
	unlink(path);
}

struct bad {
	const char *text;
	const char *error;
};

static const char long_line[] =
	"[P0301]\ntitle = "
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"\n";

#define FULL                                                               \
	"title = t\ndescription = d\nseverity = high\ndriver_advice = a\n" \
	"action = w\n"

static const struct bad bads[] = {
	{ "[P0301]\n" FULL "colour = red\n", ":7: unknown key 'colour'" },
	{ "[P0301]\ntitle = t\nseverity = severe\n",
	  ":3: severity: expected low, medium, high or critical, got "
	  "'severe'" },
	{ "[P0301]\n" FULL "\n[P0302]\ntitle = t\n",
	  ":8: [P0302]: missing key 'description'" },
	{ "[P0301]\ntitle t\n",
	  ":2: expected [section], key = value or a comment, got 'title t'" },
	{ "title = t\n", ":1: key 'title' outside a [CODE] section" },
	{ "[misfire]\ntitle = t\n", ":1: section [misfire]: expected a DTC" },
	{ "[P0301]\n" FULL "[P0301]\n" FULL,
	  ":7: section [P0301] appears twice" },
	{ long_line, ":2: expected a line of at most 199 characters" },
	{ "# nothing\n", ": no entries" },
	{ "[P0301]\ntitle =\n", ":2: title: expected a text, got ''" },
};

static void test_errors_name_file_and_line(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(*bads); i++) {
		char *path = write_tmp(bads[i].text);
		struct catalogue *c = NULL;
		char err[512], want[512];

		assert_int_equal(
			catalogue_load(&c, path, "en", err, sizeof(err)),
			-EINVAL);
		assert_null(c);
		snprintf(want, sizeof(want), "%s%s", path, bads[i].error);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err,
				 want);
		unlink(path);
	}
}

static void test_missing_files(void **state)
{
	struct catalogue *c = NULL;
	char err[512];

	assert_int_equal(
		catalogue_load(&c, "/nonexistent.ini", "en", err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "/nonexistent.ini: "));
	/* a language without a file: the path it looked for */
	assert_int_equal(catalogue_load(&c, etc_dir(), "fr", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/actions.fr.ini: "));
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_spec_code),
		cmocka_unit_test(test_fire_advice),
		cmocka_unit_test(test_continuation_and_file_path),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
