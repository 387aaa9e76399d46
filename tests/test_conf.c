/* test_conf.c: conf/: every value kind, key tables, the FILE:LINE errors */
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

#include "conf.h"

/* ---- one table of every value kind: the text, and what it gives ---- */

enum kind { BOOL, UNSIGNED, SIGNED, DOUBLE, HEX, ENUM, DURATION };

static const char *const confirm_names[] = { "cycles", "at_once",
					     "at_once_when_critical", NULL };

#define MS CONF_NS_PER_MS
#define S CONF_NS_PER_S

static const struct value_case {
	enum kind kind;
	const char *s;
	double min, max; /* DURATION: max in ns; min is the unit */
	int r;
	double v; /* bool 0/1, enum index, duration ns */
} values[] = {
	{ BOOL, "yes", 0, 0, 0, 1 },
	{ BOOL, "YES", 0, 0, 0, 1 },
	{ BOOL, "True", 0, 0, 0, 1 },
	{ BOOL, "on", 0, 0, 0, 1 },
	{ BOOL, "1", 0, 0, 0, 1 },
	{ BOOL, "no", 0, 0, 0, 0 },
	{ BOOL, "FALSE", 0, 0, 0, 0 },
	{ BOOL, "Off", 0, 0, 0, 0 },
	{ BOOL, "0", 0, 0, 0, 0 },
	{ BOOL, "", 0, 0, -EINVAL, 0 },
	{ BOOL, "maybe", 0, 0, -EINVAL, 0 },
	{ BOOL, "2", 0, 0, -EINVAL, 0 },
	{ BOOL, "yes!", 0, 0, -EINVAL, 0 },
	{ BOOL, "y", 0, 0, -EINVAL, 0 },

	{ UNSIGNED, "0", 0, 10, 0, 0 },
	{ UNSIGNED, "10", 0, 10, 0, 10 },
	{ UNSIGNED, "11", 0, 10, -ERANGE, 0 },
	{ UNSIGNED, "4", 5, 10, -ERANGE, 0 },
	{ UNSIGNED, "0x55", 0, 255, 0, 0x55 },
	{ UNSIGNED, "0X1f", 0, 255, 0, 0x1f },
	{ UNSIGNED, "-1", 0, 10, -EINVAL, 0 },
	{ UNSIGNED, "+1", 0, 10, -EINVAL, 0 },
	{ UNSIGNED, "", 0, 10, -EINVAL, 0 },
	{ UNSIGNED, "1.5", 0, 10, -EINVAL, 0 },
	{ UNSIGNED, "12abc", 0, 100, -EINVAL, 0 },
	{ UNSIGNED, "0x", 0, 100, -EINVAL, 0 },
	{ UNSIGNED, "4294967296", 0, 1e19, 0, 4294967296.0 },
	{ UNSIGNED, "18446744073709551616", 0, 1e19, -ERANGE, 0 },

	{ SIGNED, "-40", -40, 215, 0, -40 },
	{ SIGNED, "215", -40, 215, 0, 215 },
	{ SIGNED, "-41", -40, 215, -ERANGE, 0 },
	{ SIGNED, "216", -40, 215, -ERANGE, 0 },
	{ SIGNED, "+3", -5, 5, 0, 3 },
	{ SIGNED, "", -5, 5, -EINVAL, 0 },
	{ SIGNED, "3x", -5, 5, -EINVAL, 0 },
	{ SIGNED, "2.0", -5, 5, -EINVAL, 0 },
	{ SIGNED, " 3 ", -5, 5, 0, 3 },
	{ SIGNED, "3 3", -5, 5, -EINVAL, 0 },

	{ DOUBLE, "0.5", 0, 1, 0, 0.5 },
	{ DOUBLE, "1", 0, 1, 0, 1 },
	{ DOUBLE, "-5", -10, 0, 0, -5 },
	{ DOUBLE, "1e2", 0, 1000, 0, 100 },
	{ DOUBLE, "2.5 ", 0, 9, 0, 2.5 },
	{ DOUBLE, "1.01", 0, 1, -ERANGE, 0 },
	{ DOUBLE, "-0.1", 0, 1, -ERANGE, 0 },
	{ DOUBLE, "nan", 0, 1, -EINVAL, 0 },
	{ DOUBLE, "inf", 0, 1e9, -EINVAL, 0 },
	{ DOUBLE, "0x10", 0, 100, -EINVAL, 0 },
	{ DOUBLE, "", 0, 1, -EINVAL, 0 },
	{ DOUBLE, "1,5", 0, 9, -EINVAL, 0 },
	{ DOUBLE, "fast", 0, 9, -EINVAL, 0 },

	{ HEX, "7E8", 0, 0x7ff, 0, 0x7e8 },
	{ HEX, "7e8", 0, 0x7ff, 0, 0x7e8 },
	{ HEX, "0x7E8", 0, 0x7ff, 0, 0x7e8 },
	{ HEX, "800", 0, 0x7ff, -ERANGE, 0 },
	{ HEX, "0C", 0, 0xff, 0, 0x0c },
	{ HEX, "G1", 0, 0xff, -EINVAL, 0 },
	{ HEX, "", 0, 0xff, -EINVAL, 0 },
	{ HEX, "-1", 0, 0xff, -EINVAL, 0 },
	{ HEX, "5A20", 0, 0xffff, 0, 0x5a20 },

	{ ENUM, "cycles", 0, 0, 0, 0 },
	{ ENUM, "at_once", 0, 0, 0, 1 },
	{ ENUM, "at_once_when_critical", 0, 0, 0, 2 },
	{ ENUM, "at_onc", 0, 0, -EINVAL, 0 },
	{ ENUM, "CYCLES", 0, 0, -EINVAL, 0 },
	{ ENUM, "", 0, 0, -EINVAL, 0 },

	{ DURATION, "250ms", S, 3600 * S, 0, 250 * MS },
	{ DURATION, "5s", MS, 3600 * S, 0, 5 * S },
	{ DURATION, "2min", MS, 3600 * S, 0, 120 * S },
	{ DURATION, "1h", MS, 3600 * S, 0, 3600 * S },
	{ DURATION, "1.5s", MS, 3600 * S, 0, 1500 * MS },
	{ DURATION, "10 s", MS, 3600 * S, 0, 10 * S },
	{ DURATION, "100", MS, 3600 * S, 0, 100 * MS },
	{ DURATION, "100", S, 3600 * S, 0, 100 * S },
	{ DURATION, "2h", MS, 3600 * S, -ERANGE, 0 },
	{ DURATION, "5 parsecs", MS, 3600 * S, -EINVAL, 0 },
	{ DURATION, "-1s", MS, 3600 * S, -EINVAL, 0 },
	{ DURATION, "ms", MS, 3600 * S, -EINVAL, 0 },
	{ DURATION, "", MS, 3600 * S, -EINVAL, 0 },
};

/* the parser of the case's kind; *v untouched on error */
static int parse_as(const struct value_case *c, double *v)
{
	uint64_t u;
	int64_t i;
	double d;
	bool b;
	int e, r;

	switch (c->kind) {
	case BOOL:
		r = conf_parse_bool(c->s, &b);
		d = b;
		break;
	case UNSIGNED:
		r = conf_parse_unsigned(
			c->s, (uint64_t)c->min,
			c->max >= 1e19 ? UINT64_MAX : (uint64_t)c->max, &u);
		d = (double)u;
		break;
	case SIGNED:
		r = conf_parse_signed(c->s, (int64_t)c->min, (int64_t)c->max,
				      &i);
		d = (double)i;
		break;
	case DOUBLE:
		r = conf_parse_double(c->s, c->min, c->max, &d);
		break;
	case HEX:
		r = conf_parse_hex(c->s, (uint64_t)c->max, &u);
		d = (double)u;
		break;
	case ENUM:
		r = conf_parse_enum(c->s, confirm_names, &e);
		d = e;
		break;
	default:
		r = conf_parse_duration(c->s, (int64_t)c->min, 0,
					(int64_t)c->max, &i);
		d = (double)i;
		break;
	}
	if (r == 0)
		*v = d;
	return r;
}

static void every_kind(void **state)
{
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		const struct value_case *c = &values[i];
		double v = -12345;
		int r = parse_as(c, &v);

		if (r != c->r || (r == 0 && v != c->v) ||
		    (r < 0 && v != -12345))
			fail_msg("kind %d '%s': got %d %g, want %d %g", c->kind,
				 c->s, r, v, c->r, c->v);
	}
	conf_names_join(confirm_names, buf, sizeof(buf));
	assert_string_equal(buf, "cycles, at_once or at_once_when_critical");
}

/* ---- a key table through a real file ---- */

enum mode { MODE_A, MODE_B };

struct thing {
	bool on;
	uint8_t byte;
	unsigned count;
	int temp;
	double rate;
	double cylinders;
	uint16_t id;
	enum mode mode;
	char *name;
	char code[6];
	char *dir;
	int64_t hold_ns;
	char *topic;
};

static const char *const mode_names[] = { "a", "b", NULL };

#undef S

static int parse_topic(const char *v, void *field)
{
	char **s = field;

	if (strchr(v, '#'))
		return -EINVAL;
	free(*s);
	*s = strdup(v);
	return *s ? 0 : -ENOMEM;
}

#define K(name, kind, field, ...)                                        \
	{                                                                \
		name, kind, CONF_FIELD(struct thing, field), __VA_ARGS__ \
	}
static const struct conf_key thing_keys[] = {
	K("on", CONF_BOOL, on),
	K("byte", CONF_UNSIGNED, byte),
	K("count", CONF_UNSIGNED, count, .min = 1, .max = 255),
	K("temp", CONF_SIGNED, temp, .min = -40, .max = 215),
	K("rate", CONF_DOUBLE, rate, .min = 0, .max = 1),
	K("cylinders", CONF_DOUBLE, cylinders, .min = 1, .max = 12,
	  .flags = CONF_WHOLE),
	K("id", CONF_HEX, id, .max = 0x7ff),
	K("mode", CONF_ENUM, mode, .names = mode_names),
	K("name", CONF_STRING, name, .min = 1),
	K("code", CONF_CHARS, code, .min = 5),
	K("dir", CONF_PATH, dir),
	K("hold", CONF_DURATION, hold_ns, .min = 0, .max = 60000,
	  .unit_ns = CONF_NS_PER_MS),
	K("topic", CONF_CUSTOM, topic, .parse = parse_topic,
	  .expect = "a topic without #"),
	{},
};

struct ctx {
	struct conf_file f;
	struct thing t;
	unsigned n_seen;
	unsigned lines[8];
	char what[8][256];
};

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct ctx *x = user;

	if (!strcmp(section, "thing"))
		conf_apply(&x->f, section, thing_keys, &x->t, name, value);
	else
		conf_unknown_section(&x->f, section, "thing");
	return 1;
}

static void on_error(void *ud, const char *path, unsigned line,
		     const char *what)
{
	struct ctx *x = ud;

	if (x->n_seen < 8) {
		x->lines[x->n_seen] = line;
		snprintf(x->what[x->n_seen], sizeof(x->what[0]), "%s", what);
	}
	x->n_seen++;
	(void)path;
}

static char tmp_path[64];

static const char *write_file(const char *text)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_conf_XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return tmp_path;
}

static void thing_free(struct thing *t)
{
	free(t->name);
	free(t->dir);
	free(t->topic);
}

static int load(struct ctx *x, const char *text)
{
	const char *path = write_file(text);
	int r;

	memset(x, 0, sizeof(*x));
	x->f.on_error = on_error;
	x->f.ud = x;
	r = conf_parse(&x->f, path, on_key, x);
	unlink(path);
	return r;
}

static void table_applies_every_kind(void **state)
{
	struct ctx x;

	(void)state;
	assert_int_equal(load(&x, "[thing]\non = Yes\nbyte = 0xAA\n"
				  "count = 7\ntemp = -40\nrate = 0.25\n"
				  "cylinders = 6\nid = 7E8\nmode = b\n"
				  "name = n1\ncode = P0301\ndir = /tmp\n"
				  "hold = 2s\ntopic = cars/x\n"
				  "name = n2\n"),
			 0);
	assert_true(x.t.on);
	assert_int_equal(x.t.byte, 0xAA);
	assert_int_equal(x.t.count, 7);
	assert_int_equal(x.t.temp, -40);
	assert_true(x.t.rate == 0.25);
	assert_true(x.t.cylinders == 6);
	assert_int_equal(x.t.id, 0x7e8);
	assert_int_equal(x.t.mode, MODE_B);
	assert_string_equal(x.t.name, "n2"); /* the last one wins */
	assert_string_equal(x.t.code, "P0301");
	assert_string_equal(x.t.dir, "/tmp");
	assert_int_equal(x.t.hold_ns, 2 * CONF_NS_PER_S);
	assert_string_equal(x.t.topic, "cars/x");
	assert_int_equal(x.n_seen, 0);
	thing_free(&x.t);
}

/* the same mistake, the same words: what each kind says it expected */
static void bad_values_name_file_line_expected_and_got(void **state)
{
	static const struct {
		const char *line, *what;
	} t[] = {
		{ "on = maybe", "on: expected yes or no, got 'maybe'" },
		{ "byte = 256", "byte: expected a whole number 0..255, got "
				"'256'" },
		{ "count = 0", "count: expected a whole number 1..255, got "
			       "'0'" },
		{ "temp = -41", "temp: expected a whole number -40..215, got "
				"'-41'" },
		{ "rate = 2", "rate: expected a number 0..1, got '2'" },
		{ "cylinders = 6.5", "cylinders: expected a whole number "
				     "1..12, got '6.5'" },
		{ "id = 800", "id: expected a hex number 0..7FF, got '800'" },
		{ "mode = c", "mode: expected a or b, got 'c'" },
		{ "name =", "name: expected a value, got ''" },
		{ "code = P03", "code: expected 5 characters, got 'P03'" },
		{ "dir =", "dir: expected a path, got ''" },
		{ "hold = 2min", "hold: expected a duration 0..60000 ms "
				 "(250ms, 5s, 2min, 1h; a plain number "
				 "counts ms), got '2min'" },
		{ "topic = a/#", "topic: expected a topic without #, got "
				 "'a/#'" },
		{ "bogus = 1", "unknown key 'bogus' in [thing] (expected on, "
			       "byte, count, temp, rate, cylinders, id, mode, "
			       "name, code, dir, hold or topic)" },
	};
	char text[256], want[512];
	struct ctx x;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		snprintf(text, sizeof(text), "; a comment\n[thing]\n%s\n",
			 t[i].line);
		assert_int_equal(load(&x, text), -EINVAL);
		snprintf(want, sizeof(want), "%s:3: %s", tmp_path, t[i].what);
		if (strncmp(x.f.err, want, strlen(want)))
			fail_msg("'%s':\n got  %s\n want %s", t[i].line,
				 x.f.err, want);
		assert_int_equal(x.f.err_line, 3);
		assert_int_equal(x.n_seen, 1);
		thing_free(&x.t);
	}
}

static void inih_rejects_name_the_line(void **state)
{
	char want[512], text[400];
	struct ctx x;

	(void)state;
	/* not INI at all: the line's text */
	assert_int_equal(load(&x, "[thing]\non = yes\njust words\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: expected [section], key = value or a comment, got "
		 "'just words'",
		 tmp_path);
	assert_string_equal(x.f.err, want);

	/* inih's line before a handler's error is the first error */
	assert_int_equal(load(&x, "[thing]\nwhat\non = maybe\n"), -EINVAL);
	assert_int_equal(x.f.err_line, 2);
	assert_int_equal(x.n_seen, 2);

	/* the handler's error first, inih's later: both heard, first kept */
	assert_int_equal(load(&x, "[thing]\non = maybe\nwhat\n"), -EINVAL);
	assert_int_equal(x.f.err_line, 2);
	assert_non_null(strstr(x.f.err, "on: expected yes or no"));
	assert_int_equal(x.n_seen, 2);
	assert_int_equal(x.lines[1], 3);

	/* a line longer than inih's buffer */
	memset(text, 0, sizeof(text));
	strcpy(text, "[thing]\nname = ");
	memset(text + strlen(text), 'x', 300);
	strcat(text, "\n");
	assert_int_equal(load(&x, text), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: expected a line of at most %d",
		 tmp_path, INI_LINES_MAX - 1);
	if (strncmp(x.f.err, want, strlen(want)))
		fail_msg("got %s", x.f.err);
	thing_free(&x.t);

	/* unknown section names its header */
	assert_int_equal(load(&x, "[thing]\n\n[other]\na = 1\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: unknown section [other] (expected thing)", tmp_path);
	assert_string_equal(x.f.err, want);
}

static void unreadable_file(void **state)
{
	struct conf_file f = { 0 };

	(void)state;
	assert_int_equal(conf_parse(&f, "/nonexistent/x.conf", on_key, NULL),
			 -ENOENT);
	assert_string_equal(f.err,
			    "/nonexistent/x.conf: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind),
		cmocka_unit_test(table_applies_every_kind),
		cmocka_unit_test(bad_values_name_file_line_expected_and_got),
		cmocka_unit_test(inih_rejects_name_the_line),
		cmocka_unit_test(unreadable_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
