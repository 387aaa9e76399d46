/* test_config.c: etc/dtcd.conf and the parser's key tables say the same */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "control.h"
#include "cycle.h"
#include "detector.h"
#include "signal.h"
#include "store.h"

/* a key of the sample: set (key = v) or shown with its default (;key = v) */
struct sample_key {
	char section[64];
	char key[64];
	char value[256];
	int line;
	bool seen_in_table;
};

struct sample {
	struct sample_key keys[256];
	size_t n;
	char *text;
};

static char *sample_path(void)
{
	const char *root = getenv("DTCD_SOURCE_ROOT");
	char *path;

	assert_non_null(root);
	assert_true(asprintf(&path, "%s/etc/dtcd.conf", root) > 0);
	return path;
}

static void read_sample(struct sample *s)
{
	char *path = sample_path(), line[512], section[64] = "";
	FILE *f = fopen(path, "re");
	regex_t key_re, sec_re;
	regmatch_t m[3];
	size_t len = 0;
	int n = 0;

	assert_non_null(f);
	memset(s, 0, sizeof(*s));
	s->text = calloc(1, 65536);
	assert_non_null(s->text);
	/* a comment naming a key starts with ';' and the key, no blank */
	assert_int_equal(regcomp(&key_re, "^;?([a-z_]+) = (.*)$", REG_EXTENDED),
			 0);
	assert_int_equal(regcomp(&sec_re, "^\\[([a-z_.]+)\\]", REG_EXTENDED),
			 0);
	while (fgets(line, sizeof(line), f)) {
		n++;
		len += snprintf(s->text + len, 65536 - len, "%s", line);
		line[strcspn(line, "\n")] = '\0';
		if (!regexec(&sec_re, line, 2, m, 0)) {
			snprintf(section, sizeof(section), "%.*s",
				 (int)(m[1].rm_eo - m[1].rm_so),
				 line + m[1].rm_so);
		} else if (!regexec(&key_re, line, 3, m, 0)) {
			struct sample_key *k = &s->keys[s->n++];

			assert_true(s->n < 256);
			snprintf(k->section, sizeof(k->section), "%s", section);
			snprintf(k->key, sizeof(k->key), "%.*s",
				 (int)(m[1].rm_eo - m[1].rm_so),
				 line + m[1].rm_so);
			snprintf(k->value, sizeof(k->value), "%s",
				 line + m[2].rm_so);
			k->line = n;
		}
	}
	regfree(&key_re);
	regfree(&sec_re);
	fclose(f);
	free(path);
}

static struct sample_key *sample_find(struct sample *s, const char *section,
				      const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i].section, section) &&
		    !strcmp(s->keys[i].key, key))
			return &s->keys[i];
	return NULL;
}

static struct detectors *detectors(struct signal_table *t, struct cycle *c)
{
	struct detector_env env = { .signals = t, .cycle = c };
	struct detectors *d = NULL;

	struct cycle_config cfg;

	cycle_config_default(&cfg);
	signal_table_init(t);
	cycle_init(c, &cfg);
	assert_int_equal(detectors_new(&d, &env), 0);
	return d;
}

/* the parser's table of a section of the sample, NULL for none */
static const struct conf_key *table_of(const struct detectors *d,
				       const char *section)
{
	if (!strncmp(section, "detector.", 9))
		return detectors_keys(d, section + 9);
	return config_keys(section);
}

/* every key of the sample is one the parser takes, and the other way */
static void sample_keys_are_the_tables(void **state)
{
	static const char *const sections[] = { "dtcd", "mqtt", "capsule" };
	struct signal_table t;
	struct cycle c;
	struct detectors *d = detectors(&t, &c);
	struct sample s;
	char name[64];
	size_t n_tables = 0;

	(void)state;
	read_sample(&s);
	assert_true(s.n > 50);
	for (size_t i = 0; i < s.n; i++) {
		const struct conf_key *keys = table_of(d, s.keys[i].section);

		if (!conf_key_find(keys, s.keys[i].key))
			fail_msg("dtcd.conf:%d: [%s] %s is not a key dtcd "
				 "takes",
				 s.keys[i].line, s.keys[i].section,
				 s.keys[i].key);
	}
	/* the other way: [dtcd], [mqtt], [capsule], then [detector.NAME] */
	for (size_t i = 0; i < 3 + detectors_count(); i++) {
		const struct conf_key *keys;

		if (i < 3)
			snprintf(name, sizeof(name), "%s", sections[i]);
		else
			snprintf(name, sizeof(name), "detector.%s",
				 detectors_name(i - 3));
		keys = table_of(d, name);
		assert_non_null(keys);
		for (; keys->key; keys++, n_tables++)
			if (!sample_find(&s, name, keys->key))
				fail_msg("dtcd.conf has no [%s] %s", name,
					 keys->key);
	}
	assert_true(n_tables > 50);
	free(s.text);
	detectors_free(d);
}

/* the defaults the sample shows are the parser's: on, they change nothing */
static void sample_defaults_are_the_parsers(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX", err[512];
	struct config *def = NULL, *all = NULL;
	struct sample s;
	FILE *f;
	int fd;

	(void)state;
	read_sample(&s);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	for (size_t i = 0; i < s.n; i++) {
		if (strncmp(s.keys[i].section, "detector.", 9) &&
		    strcmp(s.keys[i].section, "dtcd") &&
		    strcmp(s.keys[i].section, "mqtt") &&
		    strcmp(s.keys[i].section, "capsule"))
			continue;
		fprintf(f, "[%s]\n%s = %s\n", s.keys[i].section, s.keys[i].key,
			s.keys[i].value);
	}
	fclose(f);
	assert_int_equal(config_load(&def, NULL, err, sizeof(err)), 0);
	if (config_load(&all, path, err, sizeof(err)) < 0)
		fail_msg("every key of the sample on: %s", err);
	unlink(path);
	/* those with a default; the others are examples (host, dirs) */
	assert_string_equal(all->profile, def->profile);
	assert_string_equal(all->interface, def->interface);
	assert_string_equal(all->lang, def->lang);
	assert_int_equal(all->tick_ms, def->tick_ms);
	assert_int_equal(all->json, def->json);
	assert_int_equal(all->mqtt_port, def->mqtt_port);
	assert_string_equal(all->mqtt_topic, def->mqtt_topic);
	assert_int_equal(all->mqtt_qos, def->mqtt_qos);
	assert_int_equal(all->capsule, def->capsule);
	assert_int_equal(all->capsule_before_ns, def->capsule_before_ns);
	assert_int_equal(all->capsule_after_ns, def->capsule_after_ns);
	assert_int_equal(all->capsule_max_kb, def->capsule_max_kb);
	assert_int_equal(all->capsule_store_mb, def->capsule_store_mb);
	assert_int_equal(all->capsule_ring_kb, def->capsule_ring_kb);
	/* one truth: the paths the code uses are the ones the sample says */
	assert_string_equal(sample_find(&s, "dtcd", "control_socket")->value,
			    CONTROL_DEFAULT_PATH);
	assert_non_null(strstr(s.text, "(DIR/" DTC_STORE_FILE ")"));
	assert_non_null(all->detector_keys);
	config_free(def);
	config_free(all);
	free(s.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sample_keys_are_the_tables),
		cmocka_unit_test(sample_defaults_are_the_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
