/* poll_profile.c: [poll] entries of a profile, each checked by the gate */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poll_gate.h"
#include "poll_profile.h"

void poll_plan_init(struct poll_plan *plan)
{
	*plan = (struct poll_plan){
		.p2_ns = 50 * 1000000LL,
		.p2_star_ns = 5000 * 1000000LL,
		.busy_retry_ns = 200 * 1000000LL,
		/*
		 * After the after-run checks: the fuel heater (30 s after-run
		 * + 60 s) and the battery drain (120 s) need the DME's
		 * answers that long after the engine stopped.
		 */
		.park_after_ns = 180 * 1000000000LL,
		.bitrate = 500000,
		.budget_pct = 5.0,
	};
}

void poll_plan_done(struct poll_plan *plan)
{
	if (!plan)
		return;
	free(plan->req);
	plan->req = NULL;
	plan->n = 0;
}

/* two hex digits at s, or -1 */
static int hex_byte(const char *s)
{
	char two[3] = { s[0], s[0] ? s[1] : 0, 0 };

	if (!isxdigit((unsigned char)two[0]) ||
	    !isxdigit((unsigned char)two[1]))
		return -1;
	return (int)strtoul(two, NULL, 16);
}

/* a number within [min, max], whole string */
static bool parse_number(const char *s, double min, double max, double *ret)
{
	char *end = NULL;
	double v = *s ? strtod(s, &end) : NAN;

	if (!end || *end || !(v >= min && v <= max))
		return false;
	*ret = v;
	return true;
}

/* NHz, Ns, Nms or cycle; returns the period (0 = once per cycle) or -1 */
static int64_t parse_rate(const char *s)
{
	size_t n = strlen(s);
	char num[32];
	double v;

	if (strcmp(s, "cycle") == 0)
		return 0;
	if (n < 2 || n >= sizeof(num))
		return -1;
	if (n > 2 && strcasecmp(s + n - 2, "hz") == 0) {
		snprintf(num, sizeof(num), "%.*s", (int)(n - 2), s);
		if (!parse_number(num, 0.001, 100, &v))
			return -1;
		return llround(1e9 / v);
	}
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		snprintf(num, sizeof(num), "%.*s", (int)(n - 2), s);
		if (!parse_number(num, 10, 3600e3, &v))
			return -1;
		return llround(v * 1e6);
	}
	if (s[n - 1] == 's') {
		snprintf(num, sizeof(num), "%.*s", (int)(n - 1), s);
		if (!parse_number(num, 0.01, 3600, &v))
			return -1;
		return llround(v * 1e9);
	}
	return -1;
}

static int parse_target(const char *s, struct poll_request *r)
{
	int b;

	if (strcmp(s, "obd") == 0) {
		r->target = POLL_OBD_FUNCTIONAL;
		r->ecu = 0xFF;
		return 0;
	}
	if (strncmp(s, "bmw:", 4) == 0 && strlen(s) == 6 &&
	    (b = hex_byte(s + 4)) >= 0) {
		r->target = POLL_BMW;
		r->ecu = (uint8_t)b;
		/* 0xDF is the BMW functional address, 0xF0.. are testers */
		return r->ecu >= 0xF0 || r->ecu == 0xDF ? -1 : 0;
	}
	if (strlen(s) == 3 && (s[0] == '7') && (s[1] == 'E' || s[1] == 'e') &&
	    s[2] >= '0' && s[2] <= '7') {
		r->target = POLL_OBD_PHYSICAL;
		r->ecu = (uint8_t)(s[2] - '0');
		return 0;
	}
	return -1;
}

static int parse_setting(struct poll_plan *plan, const char *name,
			 const char *value, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		double min, max, unit_ns; /* 0: not a time */
		const char *expect;
	} keys[] = {
		{ "p2_ms", 1, 5000, 1e6, "1..5000" },
		{ "p2_star_ms", 10, 60000, 1e6, "10..60000" },
		{ "busy_retry_ms", 10, 60000, 1e6, "10..60000" },
		{ "park_after_s", 1, 86400, 1e9, "1..86400" },
		{ "bitrate", 10000, 8000000, 0, "10000..8000000" },
		{ "budget_pct", 0.1, 50, 0, "0.1..50" },
	};
	double v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		if (strcmp(name, keys[i].key))
			continue;
		if (!parse_number(value, keys[i].min, keys[i].max, &v)) {
			snprintf(err, errlen, "%s: expected %s, got '%s'", name,
				 keys[i].expect, value);
			return -EINVAL;
		}
		if (i == 0)
			plan->p2_ns = llround(v * keys[i].unit_ns);
		else if (i == 1)
			plan->p2_star_ns = llround(v * keys[i].unit_ns);
		else if (i == 2)
			plan->busy_retry_ns = llround(v * keys[i].unit_ns);
		else if (i == 3)
			plan->park_after_ns = llround(v * keys[i].unit_ns);
		else if (i == 4)
			plan->bitrate = (unsigned)v;
		else
			plan->budget_pct = v;
		return 0;
	}
	return 1;
}

/* BYTES...: whole hex bytes, a word may hold several (5A20) */
static int parse_bytes(char **w, size_t n, struct poll_request *r, char *err,
		       size_t errlen)
{
	size_t max = r->target == POLL_BMW ? POLL_REQ_MAX - 1 : POLL_REQ_MAX;

	r->len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(w[i]);

		if (l % 2) {
			snprintf(err, errlen,
				 "'%s': expected whole bytes in hex (two "
				 "digits each)",
				 w[i]);
			return -EINVAL;
		}
		for (size_t k = 0; k < l; k += 2) {
			int b = hex_byte(w[i] + k);

			if (b < 0) {
				snprintf(err, errlen,
					 "'%s': expected bytes in hex", w[i]);
				return -EINVAL;
			}
			if (r->len == max) {
				snprintf(err, errlen,
					 "a request is one frame: at most %zu "
					 "bytes to this target",
					 max);
				return -EINVAL;
			}
			r->data[r->len++] = (uint8_t)b;
		}
	}
	if (r->len == 0) {
		snprintf(err, errlen, "expected the request's bytes");
		return -EINVAL;
	}
	return 0;
}

int poll_plan_key(struct poll_plan *plan, const char *name, const char *value,
		  unsigned line, char *err, size_t errlen)
{
	static const char usage[] =
		"expected TARGET BYTES... @ RATE, e.g. bmw:12 22 5A20 @ 5Hz "
		"(TARGET obd, 7E0..7E7 or bmw:ADDR; RATE NHz, Ns, Nms or "
		"cycle)";
	struct poll_request r = { .line = line };
	char buf[256], *w[16], why[200];
	size_t n = 0;
	int64_t period;
	void *a;
	int k;

	k = parse_setting(plan, name, value, err, errlen);
	if (k <= 0)
		return k;
	if (strlen(name) >= sizeof(r.name) || !*name) {
		snprintf(err, errlen, "request name: 1 to %zu characters",
			 sizeof(r.name) - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < plan->n; i++)
		if (strcmp(plan->req[i].name, name) == 0) {
			snprintf(err, errlen,
				 "request '%s' listed twice (first at line "
				 "%u)",
				 name, plan->req[i].line);
			return -EINVAL;
		}
	strcpy(r.name, name);
	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: value too long", name);
		return -EINVAL;
	}
	strcpy(buf, value);
	for (char *s = strtok(buf, " \t"); s; s = strtok(NULL, " \t")) {
		if (n == sizeof(w) / sizeof(*w)) {
			snprintf(err, errlen, "%s: %s", name, usage);
			return -EINVAL;
		}
		w[n++] = s;
	}
	if (n < 4 || strcmp(w[n - 2], "@") != 0) {
		snprintf(err, errlen, "%s: %s", name, usage);
		return -EINVAL;
	}
	if (parse_target(w[0], &r) < 0) {
		snprintf(err, errlen,
			 "%s: target '%s': expected obd, 7E0..7E7 or bmw:ADDR "
			 "(an ECU's address in hex, not a tester's)",
			 name, w[0]);
		return -EINVAL;
	}
	period = parse_rate(w[n - 1]);
	if (period < 0) {
		snprintf(err, errlen,
			 "%s: rate '%s': expected NHz (0.001..100), Ns, Nms "
			 "(10 ms at least) or cycle",
			 name, w[n - 1]);
		return -EINVAL;
	}
	r.period_ns = period;
	if (parse_bytes(w + 1, n - 3, &r, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -EINVAL;
	}
	/* the gate, at load: a profile can never make dtcd change the car */
	if (poll_gate_check(r.data, r.len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -EINVAL;
	}
	a = realloc(plan->req, (plan->n + 1) * sizeof(*plan->req));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	plan->req = a;
	plan->req[plan->n++] = r;
	return 0;
}

void poll_request_describe(const struct poll_request *r, char *buf, size_t len)
{
	size_t o = 0;

	for (unsigned i = 0; i < r->len && o + 4 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%02X", i ? " " : "",
				      r->data[i]);
	if (r->target == POLL_OBD_FUNCTIONAL)
		snprintf(buf + o, len - o, " to 7DF");
	else if (r->target == POLL_OBD_PHYSICAL)
		snprintf(buf + o, len - o, " to 7E%u", r->ecu);
	else
		snprintf(buf + o, len - o, " to bmw:%02X", r->ecu);
}
