/* store_driver.c: drives the DTC manager and its store from a text script */
/*
 * The crash test's stand-in for `dtcd --replay LOG --json --state DIR`:
 *   store_driver --dtc-ini FILE --replay SCRIPT [--json] [--state DIR]
 * One command per line, times in seconds ("#" starts a comment):
 *   signal TS NAME VALUE          a canonical signal (vin: text)
 *   report TS CODE DETECTOR passed|failed|prepassed|prefailed
 *          [confirm_now] [low|medium|high|critical]
 *   start TS | end TS [warmup] | tick TS
 *   ecu TS ECU_ID MIL DTC_COUNT   (ECU_ID hex, e.g. 7E8)
 *   codes TS ECU_ID SERVICE CODE...  (SERVICE 03, 07 or 0A, CODE hex)
 *   clear TS [CODE]
 * Each event is printed as one JSON line once the manager hands it over,
 * which is after its commit to the store.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "manager.h"
#include "store.h"

static void print_event(void *ud, const struct dtc_event *ev)
{
	const struct dtc_freeze_frame *ff = ev->freeze_frame;
	bool first = true;

	printf("{\"ts\": %.6f, \"event\": \"%s\", \"code\": \"%s\", "
	       "\"detector\": \"%s\", \"severity\": \"%s\", \"status\": %u, "
	       "\"occurrences\": %u",
	       ev->ts_ns / 1e9, dtc_event_type_name(ev->type), ev->code,
	       ev->detector, dtc_severity_name(ev->severity), ev->status,
	       ev->occurrences);
	if (ev->type == DTC_EVENT_ECU) {
		printf(", \"ecu\": \"%X\"", ev->ecu_id);
		if (ev->mil_on >= 0)
			printf(", \"mil_on\": %d", ev->mil_on);
		if (ev->dtc_count >= 0)
			printf(", \"dtc_count\": %d", ev->dtc_count);
		if (ev->ecu_kind)
			printf(", \"kind\": \"%s\"", ev->ecu_kind);
	}
	printf(", \"freeze_frame\": {");
	for (int i = 0; ff && i < SIG__MAX; i++) {
		if (ff->present[i] && isfinite(ff->value[i])) {
			printf("%s\"%s\": %.17g", first ? "" : ", ",
			       signal_name(i), ff->value[i]);
			first = false;
		}
	}
	if (ff && ff->vin[0])
		printf("%s\"vin\": \"%s\"", first ? "" : ", ", ff->vin);
	printf("}}\n");
	/* the crash test compares what reached stdout with the store */
	fflush(stdout);
}

static void print_error(void *ud, const char *msg)
{
	fprintf(stderr, "store_driver: %s\n", msg);
}

static bool parse_ts(const char *s, int64_t *ret)
{
	char *end;
	double v;

	if (!s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0) || v > 9e9)
		return false;
	*ret = (int64_t)llround(v * 1e9);
	return true;
}

static bool parse_hex(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;

	if (!s)
		return false;
	errno = 0;
	*ret = strtoul(s, &end, 16);
	return !errno && *s && !*end && *ret <= max;
}

static int cmd_report(struct dtc_manager *m, int64_t ts, char **tok, int n)
{
	static const char *const results[] = {
		[DTC_RESULT_PASSED] = "passed",
		[DTC_RESULT_FAILED] = "failed",
		[DTC_RESULT_PREPASSED] = "prepassed",
		[DTC_RESULT_PREFAILED] = "prefailed",
	};
	struct dtc_report r = { 0 };
	int i;

	if (n < 5)
		return -EINVAL;
	r.code = tok[2];
	r.detector = tok[3];
	for (i = 0; i < 4; i++)
		if (strcmp(tok[4], results[i]) == 0)
			break;
	if (i == 4)
		return -EINVAL;
	r.result = (enum dtc_result)i;
	for (i = 5; i < n; i++) {
		if (strcmp(tok[i], "confirm_now") == 0)
			r.confirm_now = true;
		else if (catalogue_parse_severity(tok[i], &r.severity) < 0)
			return -EINVAL;
	}
	dtc_manager_report(m, ts, &r);
	return 0;
}

/* the last values freeze frames are taken from, as the daemon's table */
static struct signal_table signals;

static int cmd_signal(struct dtc_manager *m, int64_t ts, char **tok, int n)
{
	struct signal_slot slot = { .ts_ns = ts, .valid = true };
	enum signal_id id;
	char *end;

	if (n != 4 || (id = signal_from_name(tok[2])) == SIG_INVALID)
		return -EINVAL;
	if (signal_info(id)->is_text) {
		snprintf(slot.text, sizeof(slot.text), "%s", tok[3]);
	} else {
		slot.value = strtod(tok[3], &end);
		if (*end || end == tok[3])
			return -EINVAL;
	}
	signals.slot[id] = slot;
	return 0;
}

static int cmd_codes(struct dtc_manager *m, int64_t ts, char **tok, int n)
{
	uint16_t codes[64];
	unsigned long id, svc, c;
	int k = 0;

	if (n < 4 || !parse_hex(tok[2], 0x1fffffff, &id) ||
	    !parse_hex(tok[3], 0xff, &svc) || n - 4 > 64)
		return -EINVAL;
	for (int i = 4; i < n; i++) {
		if (!parse_hex(tok[i], 0xffff, &c))
			return -EINVAL;
		codes[k++] = (uint16_t)c;
	}
	dtc_manager_ecu_codes(m, ts, id, (uint8_t)svc, codes, k);
	return 0;
}

static int run_line(struct dtc_manager *m, char *line)
{
	char *tok[80];
	int n = 0;
	int64_t ts;
	unsigned long id;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 80;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n == 0 || tok[0][0] == '#')
		return 0;
	if (n < 2 || !parse_ts(tok[1], &ts))
		return -EINVAL;
	if (strcmp(tok[0], "report") == 0)
		return cmd_report(m, ts, tok, n);
	if (strcmp(tok[0], "signal") == 0)
		return cmd_signal(m, ts, tok, n);
	if (strcmp(tok[0], "codes") == 0)
		return cmd_codes(m, ts, tok, n);
	if (strcmp(tok[0], "start") == 0 && n == 2)
		dtc_manager_cycle_started(m, ts);
	else if (strcmp(tok[0], "end") == 0 && n <= 3)
		dtc_manager_cycle_ended(
			m, ts, n == 3 && strcmp(tok[2], "warmup") == 0);
	else if (strcmp(tok[0], "tick") == 0 && n == 2)
		dtc_manager_on_tick(m, ts);
	else if (strcmp(tok[0], "ecu") == 0 && n == 5 &&
		 parse_hex(tok[2], 0x1fffffff, &id))
		dtc_manager_ecu_status(m, ts, id, atoi(tok[3]), atoi(tok[4]));
	else if (strcmp(tok[0], "clear") == 0 && n <= 3)
		return dtc_manager_clear(m, ts, n == 3 ? tok[2] : NULL);
	else
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	const char *ini = NULL, *script = NULL;
	const char *state = NULL;
	struct dtc_store *store = NULL;
	struct dtc_manager *m = NULL;
	char err[512], line[2048];
	FILE *f;
	int r, lineno = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dtc-ini") == 0 && i + 1 < argc)
			ini = argv[++i];
		else if (strcmp(argv[i], "--replay") == 0 && i + 1 < argc)
			script = argv[++i];
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state = argv[++i];
		else if (strcmp(argv[i], "--json") != 0) {
			fprintf(stderr,
				"usage: %s --dtc-ini FILE --replay SCRIPT "
				"[--json] [--state DIR]\n",
				argv[0]);
			return 2;
		}
	}
	if (!script || !ini) {
		fprintf(stderr,
			"store_driver: --replay and --dtc-ini are required\n");
		return 2;
	}
	if (state && dtc_store_open(&store, state, err, sizeof(err)) < 0) {
		fprintf(stderr, "store_driver: %s\n", err);
		return 1;
	}
	if (dtc_manager_new(&m, ini, store, print_event, NULL, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "store_driver: %s\n", err);
		dtc_store_close(store);
		return 1;
	}
	dtc_manager_set_error_handler(m, print_error, NULL);
	dtc_manager_set_signals(m, &signals);
	f = strcmp(script, "-") == 0 ? stdin : fopen(script, "re");
	if (!f) {
		fprintf(stderr, "store_driver: %s: %s\n", script,
			strerror(errno));
		r = 1;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (run_line(m, line) < 0)
			fprintf(stderr, "%s:%d: malformed line skipped\n",
				script, lineno);
	}
	if (f != stdin)
		fclose(f);
	r = 0;
out:
	dtc_manager_free(m);
	dtc_store_close(store);
	return r;
}
