/* main.c: dtcd's command line: replay a log, run live, check or clear */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "capture.h"
#include "config.h"
#include "control.h"
#include "dtcd-build.h"
#include "live.h"
#include "log.h"
#include "output_json.h"
#include "output_mqtt.h"
#include "output_report.h"
#include "output_text.h"
#include "pipeline.h"
#include "profile.h"
#include "replay.h"
#include "store_retry.h"
#include "replay_many.h"

enum mode {
	MODE_LIVE,
	MODE_REPLAY,
	MODE_CLEAR,
	MODE_LIST,
	MODE_CHECK,
	MODE_CAPTURE
};

struct args {
	enum mode mode;
	const char *config;
	const char *replay;
	const char *profile;
	const char *state_dir;
	const char *lang;
	const char *interface;
	const char *clear_code; /* also --capture's */
	const char *control;
	const char *report;
	const char *compare_config;
	const char **inputs; /* --replay FILE and the files after it */
	size_t n_inputs;
	unsigned jobs;	      /* -j N; 0: not given */
	struct output *extra; /* one more output (a multi-replay's counter) */
	bool quiet;
	bool signals;
	bool json;
	bool foreground;
	bool poll, listen_only;
	int verbose;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dtcd [-dnv] [-c FILE] [-i IFACE] [--profile "
		"NAME|PATH]\n"
		"            [--poll | --listen-only]\n"
		"            [--state DIR] [--lang en|de] [--json]\n"
		"       dtcd --replay FILE [--signals | --json] [--profile "
		"NAME|PATH]\n"
		"            [--state DIR] [-c FILE] [--control SOCKET]\n"
		"            [--report FILE.html]\n"
		"       dtcd --replay FILE|DIR... [-j N] [-q] [--json] "
		"[--compare-config FILE]\n"
		"       dtcd --clear [CODE] --state DIR\n"
		"       dtcd --list --state DIR\n"
		"       dtcd --capture CODE --state DIR > ev.log\n"
		"\n"
		"  -c, --config FILE    configuration (INI)\n"
		"  -n                   check the configuration, profile and "
		"DBC, then exit\n"
		"  -d                   stay in the foreground, log to stderr\n"
		"  -v                   more log messages (twice: debug)\n"
		"  -i, --interface IF   SocketCAN interface (default can0)\n"
		"  --replay FILE        replay a candump log (- = stdin) as "
		"fast as it reads\n"
		"  --signals            write each change of a canonical "
		"signal (JSON lines)\n"
		"  --json               write DTC events as JSON lines\n"
		"  --report FILE        with --replay: write an HTML report "
		"(charts per event)\n"
		"  -j N                 replay N logs at once (each its own "
		"vehicle)\n"
		"  --compare-config F   replay again under F, print the events "
		"that differ\n"
		"  -q                   no progress on a terminal\n"
		"  --profile NAME|PATH  vehicle profile (default "
		"bmw-reference)\n"
		"  --state DIR          keep DTCs, cycles and events in "
		"DIR/dtcd.db\n"
		"  --lang en|de         language of titles and workshop "
		"actions\n"
		"  --clear [CODE]       clear one or all DTCs (as UDS 0x14) "
		"and exit\n"
		"  --list               write the stored DTCs (JSON) and exit\n"
		"  --capture CODE       write the evidence of CODE's last "
		"event (candump)\n"
		"  --control SOCKET     control socket for dtcctl (live: "
		"default\n"
		"                       " CONTROL_DEFAULT_PATH
		"; replay: none)\n"
		"  --poll               live: ask the car what the profile's "
		"[poll] lists\n"
		"                       (read-only services only)\n"
		"  --listen-only        never send a frame (wins over --poll "
		"and poll = yes)\n"
		"  --version            print the version\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		OPT_REPLAY = 256,
		OPT_SIGNALS,
		OPT_JSON,
		OPT_PROFILE,
		OPT_STATE,
		OPT_LANG,
		OPT_CLEAR,
		OPT_LIST,
		OPT_VERSION,
		OPT_CONTROL,
		OPT_REPORT,
		OPT_COMPARE,
		OPT_POLL,
		OPT_LISTEN_ONLY,
		OPT_CAPTURE
	};
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "signals", no_argument, NULL, OPT_SIGNALS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "lang", required_argument, NULL, OPT_LANG },
		{ "clear", optional_argument, NULL, OPT_CLEAR },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "compare-config", required_argument, NULL, OPT_COMPARE },
		{ "poll", no_argument, NULL, OPT_POLL },
		{ "listen-only", no_argument, NULL, OPT_LISTEN_ONLY },
		{ "capture", required_argument, NULL, OPT_CAPTURE },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:i:dnvhj:q", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'i':
			/* -i can0 -i can1: both, joined as dtcd.conf lists
			 * them */
			if (a->interface) {
				static char list[256];
				int n = snprintf(list, sizeof(list), "%s,%s",
						 a->interface, optarg);

				if (n < 0 || (size_t)n >= sizeof(list)) {
					fprintf(stderr, "dtcd: -i: too many "
							"interfaces\n");
					return -EINVAL;
				}
				optarg = list;
			}
			a->interface = optarg;
			break;
		case 'd':
			a->foreground = true;
			break;
		case 'n':
			a->mode = MODE_CHECK;
			break;
		case 'v':
			a->verbose++;
			break;
		case OPT_REPLAY:
			a->mode = MODE_REPLAY;
			a->replay = optarg;
			break;
		case OPT_SIGNALS:
			a->signals = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_PROFILE:
			a->profile = optarg;
			break;
		case OPT_STATE:
			a->state_dir = optarg;
			break;
		case OPT_LANG:
			if (strcmp(optarg, "en") && strcmp(optarg, "de")) {
				fprintf(stderr,
					"dtcd: --lang: expected en or de\n");
				return -EINVAL;
			}
			a->lang = optarg;
			break;
		case OPT_CLEAR:
			a->mode = MODE_CLEAR;
			/* "--clear P0301" as well as "--clear=P0301" */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			a->clear_code = optarg;
			break;
		case OPT_LIST:
			a->mode = MODE_LIST;
			break;
		case OPT_CAPTURE:
			a->mode = MODE_CAPTURE;
			a->clear_code = optarg;
			break;
		case OPT_CONTROL:
			a->control = optarg;
			break;
		case OPT_REPORT:
			a->report = optarg;
			break;
		case OPT_COMPARE:
			a->compare_config = optarg;
			break;
		case 'j': {
			char *end;
			unsigned long j = strtoul(optarg, &end, 10);

			if (!*optarg || *end || j < 1 || j > 256) {
				fprintf(stderr,
					"dtcd: -j: expected a number "
					"of jobs 1..256, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			a->jobs = (unsigned)j;
			break;
		}
		case 'q':
			a->quiet = true;
			break;
		case OPT_POLL:
			a->poll = true;
			break;
		case OPT_LISTEN_ONLY:
			a->listen_only = true;
			break;
		case OPT_VERSION:
			printf("dtcd %s\n", DTCD_VERSION);
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	/* --replay a.log b.log dir/: the logs after the first */
	if (optind < argc && a->mode == MODE_REPLAY) {
		a->inputs =
			calloc((size_t)(argc - optind) + 1, sizeof(*a->inputs));
		if (!a->inputs)
			return -ENOMEM;
		a->inputs[a->n_inputs++] = a->replay;
		while (optind < argc)
			a->inputs[a->n_inputs++] = argv[optind++];
	}
	if (optind < argc) {
		fprintf(stderr, "dtcd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	if ((a->jobs || a->compare_config) && a->mode != MODE_REPLAY) {
		fprintf(stderr, "dtcd: -j and --compare-config go with "
				"--replay\n");
		return -EINVAL;
	}
	if (a->signals && a->json) {
		fprintf(stderr,
			"dtcd: --signals and --json exclude each other\n");
		return -EINVAL;
	}
	if (a->report && (a->mode != MODE_REPLAY || a->signals)) {
		fprintf(stderr, "dtcd: --report goes with --replay, not with "
				"--signals\n");
		return -EINVAL;
	}
	if (a->signals && a->mode != MODE_REPLAY) {
		fprintf(stderr, "dtcd: --signals goes with --replay\n");
		return -EINVAL;
	}
	return 0;
}

static int apply_args(struct config *cfg, const struct args *a)
{
	const char *env = getenv("DTCD_ETC_DIR");

	if ((a->profile && config_set(&cfg->profile, a->profile) < 0) ||
	    (a->state_dir && config_set(&cfg->state_dir, a->state_dir) < 0) ||
	    (a->lang && config_set(&cfg->lang, a->lang) < 0) ||
	    (a->interface && config_set(&cfg->interface, a->interface) < 0))
		return -ENOMEM;
	if (!a->lang && !a->config) {
		/* the locale picks German where the user asked for it */
		const char *l = getenv("LC_ALL");

		if (!l || !*l)
			l = getenv("LC_MESSAGES");
		if (!l || !*l)
			l = getenv("LANG");
		if (l && strncmp(l, "de", 2) == 0 &&
		    config_set(&cfg->lang, "de") < 0)
			return -ENOMEM;
	}
	if (a->json)
		cfg->json = true;
	/* listen-only wins over everything; a replay never sends */
	if (a->poll)
		cfg->poll = true;
	if (a->listen_only || a->mode != MODE_LIVE)
		cfg->poll = false;
	if (!cfg->etc_dir &&
	    config_set(&cfg->etc_dir,
		       env && *env ? env : config_default_etc_dir()) < 0)
		return -ENOMEM;
	return 0;
}

static int load_profile(const struct config *cfg, struct profile **ret)
{
	char dir[PATH_MAX];
	const char *dirs[] = { DTCD_SYSCONFDIR "/profiles", dir, NULL };
	char err[512], *path;
	int r;

	snprintf(dir, sizeof(dir), "%s/profiles", cfg->etc_dir);
	r = profile_find(cfg->profile, dirs, &path);
	if (r < 0) {
		log_warnx("profile '%s' not found in %s or %s", cfg->profile,
			  dirs[0], dirs[1]);
		return r;
	}
	r = profile_load(ret, path, err, sizeof(err));
	free(path);
	if (r < 0)
		log_warnx("%s", err);
	return r;
}

static int make_pipeline(const struct config *cfg, const struct profile *prof,
			 const struct args *a, struct pipeline **ret,
			 struct output *ret_mqtt)
{
	struct pipeline_options o = { .cfg = cfg, .profile = prof };
	char err[512];
	int r;

	o.signals_only = a->signals;
	if (a->signals || cfg->json)
		r = output_json_new(&o.outputs[o.n_outputs++], stdout);
	else
		r = output_text_new(&o.outputs[o.n_outputs++], stdout,
				    cfg->lang);
	if (r < 0)
		return r;
	if (a->report) {
		r = output_report_new(&o.outputs[o.n_outputs], a->report,
				      a->replay, cfg->lang);
		if (r < 0) {
			log_warnx("--report %s: %s", a->report, strerror(-r));
			output_free(&o.outputs[0]);
			return r;
		}
		o.n_outputs++;
	}
	if (a->extra)
		o.outputs[o.n_outputs++] = *a->extra;
	/* MQTT: DTC events to fleet operators (not for --signals or -n) */
	if (ret_mqtt && cfg->mqtt_host && !a->signals) {
		r = output_mqtt_new(&o.outputs[o.n_outputs], cfg, err,
				    sizeof(err));
		if (r < 0) {
			log_warnx("%s", err);
			for (size_t i = 0; i < o.n_outputs; i++)
				output_free(&o.outputs[i]);
			return r;
		}
		*ret_mqtt = o.outputs[o.n_outputs++];
	}
	r = pipeline_new(ret, &o, err, sizeof(err));
	for (size_t i = 0; i < o.n_outputs; i++)
		output_free(&o.outputs[i]);
	if (r < 0) {
		log_warnx("%s", err);
		if (ret_mqtt)
			*ret_mqtt = (struct output){ 0 };
	}
	return r;
}

/* ---- the control socket and MQTT in the event loop ---- */

struct extras {
	struct pipeline *p;
	struct config *cfg;
	struct profile *prof;
	const struct args *a;
	struct output mqtt; /* ops NULL: none */
	struct control *control;
	struct store_retry *retry;
	/* freed last: the control socket and MQTT's drain still use it */
	struct ev_loop *loop;
};

/* live_run()'s start callback: after daemonizing, once the loop exists */
static int start_extras(struct ev_loop *loop, void *ud)
{
	struct extras *x = ud;
	bool live = x->a->mode == MODE_LIVE;
	struct control_options o = {
		.p = x->p,
		.cfg = x->cfg,
		.mode = live ? "live" : "replay",
		.source = live ? x->cfg->interface : x->a->replay,
		.mqtt = x->mqtt.ops ? &x->mqtt : NULL,
	};
	char err[512];
	int r;

	x->loop = loop;
	if (x->mqtt.ops)
		output_mqtt_start(&x->mqtt, loop);
	if (x->p && store_retry_start(&x->retry, loop, x->p) < 0)
		return -ENOMEM;
	o.path = x->a->control ? x->a->control : x->cfg->control_socket;
	if (!o.path && live)
		o.path = CONTROL_DEFAULT_PATH;
	if (!o.path)
		return 0;
	r = control_new(&x->control, loop, &o, err, sizeof(err));
	if (r < 0) {
		log_warnx("control socket: %s", err);
		/* live: the bus matters more than dtcctl; replay: asked for */
		if (live)
			r = 0;
	}
	return r;
}

/* swaps the contents: whoever holds the pointers sees the other ones */
#define SWAP_CONTENTS(a, b)                 \
	do {                                \
		__typeof__(*(a)) t_ = *(a); \
		*(a) = *(b);                \
		*(b) = t_;                  \
	} while (0)

/*
 * SIGHUP in live mode: dtcd.conf and the profile read again. What the
 * pipeline, the control socket and the poller hold keeps its address and
 * gets the new contents; a bad file changes nothing.
 */
static int reload(void *ud, void (*quiesce)(void *qarg), void *qarg)
{
	struct extras *x = ud;
	struct config *cfg = NULL;
	struct profile *prof = NULL;
	char err[512];
	int r;

	r = config_load(&cfg, x->a->config, err, sizeof(err));
	if (r < 0) {
		log_warnx("SIGHUP: %s; keeping the running configuration", err);
		return r;
	}
	r = apply_args(cfg, x->a);
	if (r == 0)
		r = load_profile(cfg, &prof);
	if (r < 0) {
		log_warnx("SIGHUP: keeping the running configuration and "
			  "profile");
		config_free(cfg);
		return r;
	}
	/* what lives on (the store, outputs, sockets) keeps its settings */
	if (strcmp(cfg->interface, x->cfg->interface) ||
	    (cfg->mqtt_host || x->cfg->mqtt_host ?
		     !cfg->mqtt_host || !x->cfg->mqtt_host ||
			     strcmp(cfg->mqtt_host, x->cfg->mqtt_host) :
		     false) ||
	    strcmp(cfg->lang, x->cfg->lang) ||
	    strcmp(cfg->etc_dir, x->cfg->etc_dir) ||
	    (cfg->state_dir || x->cfg->state_dir ?
		     !cfg->state_dir || !x->cfg->state_dir ||
			     strcmp(cfg->state_dir, x->cfg->state_dir) :
		     false))
		log_warnx("SIGHUP: interface, state_dir, lang, etc_dir and "
			  "[mqtt] take effect at the next start");
	quiesce(qarg);
	SWAP_CONTENTS(x->cfg, cfg);
	SWAP_CONTENTS(x->prof, prof);
	r = pipeline_reload(x->p, err, sizeof(err));
	if (r < 0) {
		SWAP_CONTENTS(x->cfg, cfg);
		SWAP_CONTENTS(x->prof, prof);
		log_warnx("SIGHUP: %s; keeping the running configuration", err);
	} else {
		log_warnx("SIGHUP: configuration %s and profile %s (%s) "
			  "loaded; DTC state kept",
			  x->cfg->path ? x->cfg->path : "(built-in)",
			  x->prof->name, x->prof->path);
	}
	profile_free(prof);
	config_free(cfg);
	return r;
}

/* what dtcctl -j list prints, from the store, without a running daemon */
static int list_dtcs(const struct pipeline *p)
{
	struct json_object *a = output_json_dtc_list(
		pipeline_manager(p), pipeline_catalogue(p), false);

	if (!a)
		return -ENOMEM;
	puts(output_json_string(a));
	json_object_put(a);
	return 0;
}

static bool is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* a child of replay_many_run(): one log, as `dtcd --replay FILE` would */
static int replay_one(void *ud, const char *path, const char *config,
		      struct output *extra, struct replay_stats *ret_stats)
{
	struct args a = *(const struct args *)ud;
	struct config *cfg = NULL;
	struct profile *prof = NULL;
	struct pipeline *p = NULL;
	char err[512];
	int r;

	a.replay = path;
	a.extra = extra;
	if (config)
		a.config = config;
	r = config_load(&cfg, a.config, err, sizeof(err));
	if (r < 0) {
		log_warnx("%s", err);
		return r;
	}
	r = apply_args(cfg, &a);
	if (r == 0)
		r = load_profile(cfg, &prof);
	if (r == 0)
		r = make_pipeline(cfg, prof, &a, &p, NULL);
	if (r == 0)
		r = replay_run(p, path, ret_stats);
	pipeline_free(p);
	profile_free(prof);
	config_free(cfg);
	return r;
}

static int replay_many(const struct args *a, const struct config *cfg)
{
	/* compared runs print JSON: events are compared by type, code, time */
	struct args ca = *a;
	struct replay_many_options o = {
		.inputs = a->inputs,
		.n_inputs = a->n_inputs,
		.jobs = a->jobs ? a->jobs : 1,
		.json = cfg->json,
		.signals = a->signals,
		.quiet = a->quiet,
		.compare_config = a->compare_config,
		.run_one = replay_one,
		.ud = &ca,
	};
	struct stat st;

	if (a->report || a->control) {
		log_warnx("--report and --control take one log");
		return -EINVAL;
	}
	if (a->compare_config)
		ca.json = true;
	/* one vehicle's days in a row: the store joins them, in order */
	if (cfg->state_dir)
		o.jobs = 1;
	if (a->compare_config && stat(a->compare_config, &st) < 0) {
		log_warnx("--compare-config %s: %s", a->compare_config,
			  strerror(errno));
		return -errno;
	}
	return replay_many_run(&o);
}

static int need_state(const struct config *cfg, const char *opt)
{
	if (cfg->state_dir)
		return 0;
	log_warnx("%s needs --state DIR (or state_dir in the configuration)",
		  opt);
	return -EINVAL;
}

static int64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct args a = { .mode = MODE_LIVE };
	struct config *cfg = NULL;
	struct profile *prof = NULL;
	struct pipeline *p = NULL;
	struct extras x = { .a = &a };
	char err[512];
	int r;

	if (parse_args(argc, argv, &a) < 0)
		return 2;
	/* a file size limit makes writes fail (the store retries), it must
	 * not kill the daemon */
	signal(SIGXFSZ, SIG_IGN);
	/* a broker that drops the connection must not kill a replay */
	signal(SIGPIPE, SIG_IGN);
	log_init(LOG_TARGET_STDERR, a.verbose);
	r = config_load(&cfg, a.config, err, sizeof(err));
	if (r < 0) {
		log_warnx("%s", err);
		return 1;
	}
	x.cfg = cfg;
	r = apply_args(cfg, &a);
	if (r == 0)
		r = load_profile(cfg, &prof);
	if (r < 0)
		goto out;

	switch (a.mode) {
	case MODE_CHECK:
		r = make_pipeline(cfg, prof, &a, &p, NULL);
		if (r == 0)
			printf("configuration OK (profile %s)\n", prof->name);
		break;
	case MODE_REPLAY:
		if (a.n_inputs > 1 || a.jobs || a.compare_config ||
		    is_directory(a.replay)) {
			if (!a.inputs) {
				a.inputs = &a.replay;
				a.n_inputs = 1;
			}
			r = replay_many(&a, cfg);
			if (a.inputs == &a.replay)
				a.inputs = NULL;
			break;
		}
		r = make_pipeline(cfg, prof, &a, &p, &x.mqtt);
		if (r < 0)
			break;
		if (!a.control && !x.mqtt.ops) {
			replay_show_progress(!a.quiet);
			r = replay_run(p, a.replay, NULL);
			break;
		}
		/* dtcctl and the broker are served while the input is open */
		x.p = p;
		r = start_extras(ev_default_loop(0), &x);
		if (r == 0)
			r = replay_run_loop(x.loop, p, a.replay);
		break;
	case MODE_CLEAR:
		r = need_state(cfg, "--clear");
		if (r < 0)
			break;
		r = make_pipeline(cfg, prof, &a, &p, &x.mqtt);
		/* the fleet hears of a clear too; freeing the output drains it
		 */
		if (r == 0 && x.mqtt.ops) {
			x.loop = ev_default_loop(0);
			r = output_mqtt_start(&x.mqtt, x.loop);
		}
		if (r == 0)
			r = pipeline_clear(p, wall_clock_ns(), a.clear_code);
		if (r < 0 && r != -EINVAL)
			log_warnx("clear %s: %s",
				  a.clear_code ? a.clear_code : "all",
				  strerror(-r));
		break;
	case MODE_CAPTURE:
		r = need_state(cfg, "--capture");
		if (r < 0)
			break;
		r = capture_run(cfg->state_dir, a.clear_code);
		break;
	case MODE_LIST:
		r = need_state(cfg, "--list");
		if (r < 0)
			break;
		r = make_pipeline(cfg, prof, &a, &p, NULL);
		if (r == 0)
			r = list_dtcs(p);
		break;
	case MODE_LIVE:
		r = make_pipeline(cfg, prof, &a, &p, &x.mqtt);
		if (r < 0)
			break;
		x.p = p;
		x.prof = prof;
		r = live_run(p, &(struct live_options){
					.cfg = cfg,
					.foreground = a.foreground,
					.start = start_extras,
					.reload = reload,
					.ud = &x,
				});
		break;
	}
out:
	/* what the store could not take yet gets its last chances */
	if (p && pipeline_store_failing(p) &&
	    store_retry_finish(p, a.mode == MODE_LIVE ? 5 : 10) > 0 && r == 0)
		r = -EIO;
	store_retry_free(x.retry);
	/* in this order: all of them still use the loop */
	control_free(x.control);
	/* MQTT waits here (bounded) for the broker to acknowledge the rest */
	pipeline_free(p);
	if (x.loop)
		ev_loop_destroy(x.loop);
	profile_free(prof);
	config_free(cfg);
	free(a.inputs);
	return r < 0 ? 1 : 0;
}
