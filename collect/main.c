/* main.c: dtc-collect: subscribe and store, report, serve the dashboard */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "db.h"
#include "dtcd-build.h"
#include "http.h"
#include "log.h"
#include "report.h"
#include "settings.h"
#include "subscribe.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dtc-collect [-c FILE] [--db DB] [-v] [-n]\n"
		"       dtc-collect [-c FILE] [--db DB] report [--csv|--json]\n"
		"                   [--severity S] [--vehicle V] [--lang "
		"en|de]\n"
		"       dtc-collect [-c FILE] [--db DB] serve [--http "
		"ADDR:PORT]\n"
		"\n"
		"  -c, --config FILE  dtc-collect.conf (default %s if it "
		"exists)\n"
		"      --db DB        an SQLite file or a postgresql:// URI\n"
		"  -n                 check the configuration and exit\n"
		"  -v                 more log (twice: every message "
		"received)\n"
		"  report             per vehicle the open DTCs, severity, "
		"action, "
		"last seen;\n"
		"                     --severity S: S or worse (low, medium, "
		"high, critical)\n"
		"  serve              the web dashboard and "
		"/api/vehicles[/ID]\n",
		SETTINGS_DEFAULT_CONF);
}

struct args {
	const char *config, *db, *http, *severity, *vehicle, *lang;
	const char *command;
	enum report_format format;
	int verbose;
	bool check;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	enum { O_DB = 256, O_HTTP, O_CSV, O_JSON, O_SEV, O_VEH, O_LANG };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, O_DB },
		{ "http", required_argument, NULL, O_HTTP },
		{ "csv", no_argument, NULL, O_CSV },
		{ "json", no_argument, NULL, O_JSON },
		{ "severity", required_argument, NULL, O_SEV },
		{ "vehicle", required_argument, NULL, O_VEH },
		{ "lang", required_argument, NULL, O_LANG },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:vnh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'n':
			a->check = true;
			break;
		case O_DB:
			a->db = optarg;
			break;
		case O_HTTP:
			a->http = optarg;
			break;
		case O_CSV:
			a->format = REPORT_CSV;
			break;
		case O_JSON:
			a->format = REPORT_JSON;
			break;
		case O_SEV:
			a->severity = optarg;
			break;
		case O_VEH:
			a->vehicle = optarg;
			break;
		case O_LANG:
			a->lang = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		a->command = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "dtc-collect: unexpected '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (a->command && strcmp(a->command, "report") &&
	    strcmp(a->command, "serve")) {
		fprintf(stderr, "dtc-collect: unknown command '%s'\n",
			a->command);
		return -EINVAL;
	}
	if (a->severity && !store_severity_rank(a->severity)) {
		fprintf(stderr,
			"dtc-collect: --severity: expected low, medium, high "
			"or critical, got '%s'\n",
			a->severity);
		return -EINVAL;
	}
	if (a->lang && strcmp(a->lang, "en") && strcmp(a->lang, "de")) {
		fprintf(stderr,
			"dtc-collect: --lang: expected en or de, got '%s'\n",
			a->lang);
		return -EINVAL;
	}
	return 0;
}

static int run(const struct args *a, struct settings *s)
{
	struct store_filter f = { a->vehicle, a->severity };
	struct actions acts = { 0 };
	struct db *db = NULL;
	char err[512];
	int r;

	r = db_open(&db, s->db, err, sizeof(err));
	if (r < 0) {
		log_warnx("%s", err);
		return 1;
	}
	log_info("db: %s, schema version %d", db_engine(db),
		 db_schema_version(db));
	if (!a->command) {
		r = subscribe_run(s, db, &stop, err, sizeof(err));
	} else {
		r = actions_load(&acts, s->etc_dir, err, sizeof(err));
		if (r < 0)
			log_warnx("%s", err);
		else if (!strcmp(a->command, "report"))
			r = report_print(stdout, db, &f, a->format, &acts,
					 a->lang ? a->lang : "en");
		else
			r = http_serve(s, db, &acts, &stop, err, sizeof(err));
		if (r < 0 && strcmp(a->command, "report"))
			log_warnx("%s", err);
		else if (r < 0)
			log_warnx("report: %s", db_errmsg(db));
	}
	actions_free(&acts);
	db_close(db);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct settings *s = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *config;
	char err[512];
	int r;

	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 2;
	}
	/* report and serve say only what goes wrong; -v: what they do */
	log_set_ident("dtc-collect");
	log_init(LOG_TARGET_STDERR,
		 a.verbose + (a.command && !a.verbose ? 0 : 1));
	config = a.config;
	if (!config && access(SETTINGS_DEFAULT_CONF, R_OK) == 0)
		config = SETTINGS_DEFAULT_CONF;
	r = settings_load(&s, config, err, sizeof(err));
	if (r == 0 && a.db)
		r = config_set(&s->db, a.db);
	if (r == 0 && a.http)
		r = config_set(&s->http, a.http);
	if (r < 0) {
		fprintf(stderr, "dtc-collect: %s\n",
			r == -ENOMEM ? strerror(ENOMEM) : err);
		settings_free(s);
		return 1;
	}
	if (a.check) {
		r = a.command && !strcmp(a.command, "serve") ?
			    http_check(s, err, sizeof(err)) :
			    0;
		if (r < 0)
			fprintf(stderr, "dtc-collect: %s\n", err);
		settings_free(s);
		return r < 0 ? 1 : 0;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("dtc-collect %s", DTCD_VERSION);
	r = run(&a, s);
	settings_free(s);
	return r;
}
