/* main.c: dtcd-sim command line */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtcd-build.h"
#include "profile.h"
#include "sim.h"

static void usage(FILE *f)
{
	fputs("Usage: dtcd-sim [-s SCENARIO.ini] [--seed N] [-o FILE] [--truth "
	      "FILE]\n"
	      "                [--frames N] [--duration SECONDS]\n"
	      "Writes a candump -l log of the reference vehicle (healthy, or "
	      "with\n"
	      "the scenario's faults) to standard output or FILE.\n"
	      "  -s, --scenario FILE  scenario (INI); default: one cold start, "
	      "10 min\n"
	      "      --seed N         PRNG seed (default: the scenario's, else "
	      "1)\n"
	      "  -o, --output FILE    the log (default: standard output); "
	      "FILE.asc and\n"
	      "                       FILE.blf are Vector ASC and BLF\n"
	      "      --format F       candump, asc or blf, whatever the "
	      "name\n"
	      "      --truth FILE     also write \"ts,id,signal,value\" of "
	      "each frame\n"
	      "      --frames N       stop after N frames (the last cycle "
	      "repeats)\n"
	      "      --duration S     stop after S seconds of log time "
	      "(likewise)\n"
	      "      --live IFACE     play it on a CAN interface in real "
	      "time, the DME\n"
	      "                       and its OBD-II side answering a "
	      "tester (ISO-TP)\n"
	      "      --nrc DID=NRC    live: the DME answers 22 DID with 7F 22 "
	      "NRC (hex;\n"
	      "                       78: then the answer, 21: every other "
	      "time)\n"
	      "      --mute-after S   live: the DME stops answering after S "
	      "seconds\n"
	      "  -h, --help           this text\n"
	      "  -V, --version        the version\n"
	      "See docs/sim.md for scenario keys and faults.\n",
	      f);
}

static void on_error(void *userdata, const char *path, unsigned line,
		     const char *what)
{
	(void)userdata;
	if (line)
		fprintf(stderr, "%s:%u: %s\n", path, line, what);
	else
		fprintf(stderr, "%s: %s\n", path, what);
}

/* [tester] poll_profile: looked up as dtcd looks up --profile */
static int load_poll_profile(const struct scenario *sc, struct profile **ret)
{
	const char *dirs[] = { DTCD_SYSCONFDIR "/profiles",
			       DTCD_SOURCE_ETC "/profiles",
			       DTCD_DATADIR "/profiles", NULL };
	char err[512], *path;
	int r;

	r = profile_find(sc->poll_profile, dirs, &path);
	if (r < 0) {
		fprintf(stderr, "dtcd-sim: %s: poll_profile: no profile '%s'\n",
			sc->path ? sc->path : "scenario", sc->poll_profile);
		return r;
	}
	r = profile_load(ret, path, err, sizeof(err));
	free(path);
	if (r < 0)
		fprintf(stderr, "dtcd-sim: %s\n", err);
	return r;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "truth", required_argument, NULL, 't' },
		{ "frames", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "live", required_argument, NULL, 'L' },
		{ "nrc", required_argument, NULL, 'N' },
		{ "mute-after", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_options opt = { .out = stdout };
	const char *scenario_path = NULL, *out_path = NULL, *truth_path = NULL;
	const char *format = NULL;
	struct scenario *sc = NULL;
	struct profile *poll = NULL;
	struct sim *s = NULL;
	struct sim_live_options live = { 0 };
	unsigned did, nrc;
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "s:o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			scenario_path = optarg;
			break;
		case 'S':
			if (parse_u64(optarg, &opt.seed)) {
				fprintf(stderr,
					"dtcd-sim: --seed: expected a whole "
					"number, not \"%s\"\n",
					optarg);
				return 2;
			}
			opt.seed_set = true;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 't':
			truth_path = optarg;
			break;
		case 'F':
			format = optarg;
			if (log_writer_format_from_name(optarg, &opt.format)) {
				fprintf(stderr,
					"dtcd-sim: --format: expected "
					"candump, asc or blf, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &opt.max_frames) ||
			    !opt.max_frames) {
				fprintf(stderr,
					"dtcd-sim: --frames: expected a whole "
					"number from 1, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			errno = 0;
			opt.max_duration = strtod(optarg, &end);
			if (errno || *end || end == optarg ||
			    !(opt.max_duration > 0)) {
				fprintf(stderr,
					"dtcd-sim: --duration: expected "
					"seconds above 0, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'L':
			live.ifname = optarg;
			break;
		case 'N':
			if (live.n_nrc == SIM_LIVE_MAX_NRC ||
			    sscanf(optarg, "%4x=%2x%n", &did, &nrc,
				   &(int){ 0 }) != 2) {
				fprintf(stderr,
					"dtcd-sim: --nrc: expected DID=NRC in "
					"hex (e.g. 5A30=31), at most %d\n",
					SIM_LIVE_MAX_NRC);
				return 2;
			}
			live.nrc[live.n_nrc].did = (uint16_t)did;
			live.nrc[live.n_nrc++].nrc = (uint8_t)nrc;
			break;
		case 'M':
			errno = 0;
			live.mute_after_s = strtod(optarg, &end);
			if (errno || *end || !(live.mute_after_s > 0)) {
				fprintf(stderr,
					"dtcd-sim: --mute-after: expected "
					"seconds above 0, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("dtcd-sim %s\n", DTCD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dtcd-sim: unexpected argument \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	if (!format && out_path)
		opt.format = log_writer_format_of_path(out_path);
	if (opt.format == LOG_WRITER_BLF &&
	    (!out_path || !strcmp(out_path, "-"))) {
		/* its header, written last, holds the counts */
		fprintf(stderr, "dtcd-sim: BLF needs a file (-o FILE.blf)\n");
		return 2;
	}
	r = scenario_path ? scenario_load(&sc, scenario_path, on_error, NULL) :
			    scenario_new_default(&sc);
	if (r) {
		/* scenario_load reported its own errors through on_error */
		if (r == -ENOMEM)
			fprintf(stderr, "dtcd-sim: %s: %s\n", scenario_path,
				strerror(-r));
		return 1;
	}
	if (out_path && strcmp(out_path, "-")) {
		opt.out = fopen(out_path, "we");
		if (!opt.out) {
			fprintf(stderr, "dtcd-sim: %s: %s\n", out_path,
				strerror(errno));
			scenario_free(sc);
			return 1;
		}
	}
	if (truth_path) {
		opt.truth = fopen(truth_path, "we");
		if (!opt.truth) {
			fprintf(stderr, "dtcd-sim: %s: %s\n", truth_path,
				strerror(errno));
			r = -errno;
			goto out;
		}
		fputs("ts,id,signal,value\n", opt.truth);
	}
	if (live.ifname) {
		/* the tester is the one on the bus (dtcd), not the scenario's
		 */
		sc->uds = false;
		sc->obd = false;
	} else if (sc->poll_profile[0]) {
		r = load_poll_profile(sc, &poll);
		if (r)
			goto out;
		opt.poll = &poll->poll;
	}
	r = sim_new(&s, sc, &opt);
	if (!r)
		r = live.ifname ? sim_live_run(s, &live) : sim_run(s);
	if (r)
		fprintf(stderr, "dtcd-sim: %s\n", strerror(-r));
out:
	sim_free(s);
	profile_free(poll);
	if (opt.truth && fclose(opt.truth) && !r)
		r = -errno;
	if (opt.out != stdout && fclose(opt.out) && !r) {
		fprintf(stderr, "dtcd-sim: %s: %s\n", out_path,
			strerror(errno));
		r = -errno;
	}
	scenario_free(sc);
	return r ? 1 : 0;
}
