/* replay_many.c: dtcd --replay a.log b.log dir/ -j N: many logs, in parallel */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "replay_many.h"

/*
 * Each log is replayed by a child process of its own: a vehicle's state is
 * per file (unless --state joins them, then one after the other, in order),
 * a crash or a runaway log costs only its own file, and N children use N
 * cores without a lock between them. A child writes what dtcd would print
 * for its file into a temporary file; the parent prints the files in the
 * order given, so the output does not depend on -j.
 */

#define MAX_SEVERITY (DTC_SEVERITY_CRITICAL + 1)

struct job {
	const char *path;
	char *owned; /* path, when a directory's listing made it */
	off_t size;
	/* per configuration (the second: --compare-config) */
	FILE *out[2];	/* what the child printed */
	FILE *stats[2]; /* its figures, one JSON object */
	pid_t pid[2];
	int status[2];
};

/* the summary counts DTCs, not events: one pending then confirmed is one */
#define MAX_CODES 64

struct counter {
	unsigned sev[MAX_SEVERITY];
	unsigned codes;
	char code[MAX_CODES][8];
};

/* ---- the child's side ---- */

static void count_event(void *state, const struct dtc_event *ev,
			const struct catalogue_entry *e)
{
	struct counter *c = state;

	(void)e;
	if (ev->type != DTC_EVENT_PENDING && ev->type != DTC_EVENT_CONFIRMED)
		return;
	for (unsigned i = 0; i < c->codes; i++)
		if (!strncmp(c->code[i], ev->code, sizeof(c->code[i])))
			return;
	/* beyond MAX_CODES (more than the catalogue has) each event counts */
	if (c->codes < MAX_CODES)
		snprintf(c->code[c->codes++], sizeof(c->code[0]), "%s",
			 ev->code);
	if ((unsigned)ev->severity < MAX_SEVERITY)
		c->sev[ev->severity]++;
}

static void count_free(void *state)
{
	(void)state;
}

static const struct output_ops count_ops = {
	.name = "count",
	.event = count_event,
	.free = count_free,
};

static void write_stats(FILE *f, int ret, const struct replay_stats *st,
			const struct counter *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "rc", json_object_new_int(ret));
	json_object_object_add(o, "frames",
			       json_object_new_int64((int64_t)st->frames));
	json_object_object_add(o, "bad_lines",
			       json_object_new_int64((int64_t)st->bad_lines));
	json_object_object_add(o, "first_ns",
			       json_object_new_int64(st->first_ns));
	json_object_object_add(o, "last_ns",
			       json_object_new_int64(st->last_ns));
	for (int s = DTC_SEVERITY_LOW; s < MAX_SEVERITY; s++)
		json_object_object_add(o, dtc_severity_name(s),
				       json_object_new_int((int)c->sev[s]));
	fputs(json_object_to_json_string(o), f);
	fflush(f);
	json_object_put(o);
}

static int child(const struct replay_many_options *o, const struct job *j,
		 int which)
{
	struct counter c = { 0 };
	struct output count = { .ops = &count_ops, .state = &c };
	struct replay_stats st = { 0 };
	int r;

	fflush(stdout);
	if (dup2(fileno(j->out[which]), STDOUT_FILENO) < 0)
		_exit(125);
	r = o->run_one(o->ud, j->path, which ? o->compare_config : NULL, &count,
		       &st);
	fflush(stdout);
	write_stats(j->stats[which], r, &st, &c);
	_exit(r < 0 ? 1 : 0);
}

/* ---- the parent's side ---- */

static int add_input(struct job **jobs, size_t *n, size_t *cap,
		     const char *path)
{
	struct stat s;

	if (stat(path, &s) < 0) {
		log_warnx("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(s.st_mode)) {
		struct dirent **names;
		int k = scandir(path, &names, NULL, alphasort);
		int r = 0;

		if (k < 0) {
			log_warnx("%s: %s", path, strerror(errno));
			return -errno;
		}
		for (int i = 0; i < k; i++) {
			char *sub;

			if (names[i]->d_name[0] != '.' && r == 0) {
				if (asprintf(&sub, "%s/%s", path,
					     names[i]->d_name) < 0)
					r = -ENOMEM;
				else if ((r = add_input(jobs, n, cap, sub)) ==
						 0 &&
					 *n && (*jobs)[*n - 1].path == sub)
					(*jobs)[*n - 1].owned = sub;
				else
					free(sub);
			}
			free(names[i]);
		}
		free(names);
		return r;
	}
	if (!S_ISREG(s.st_mode) && strcmp(path, "-"))
		return 0; /* sockets, devices: not logs */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct job *nj = realloc(*jobs, nc * sizeof(*nj));

		if (!nj)
			return -ENOMEM;
		*jobs = nj;
		*cap = nc;
	}
	(*jobs)[(*n)++] = (struct job){ .path = path, .size = s.st_size };
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct json_object *read_stats(FILE *f)
{
	char buf[1024];
	size_t n;

	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

static int64_t stat_i(struct json_object *s, const char *key)
{
	struct json_object *v;

	return s && json_object_object_get_ex(s, key, &v) ?
		       json_object_get_int64(v) :
		       0;
}

/* what a child printed: as it is, or each JSON line tagged with its file */
static void copy_output(FILE *f, const char *path, bool json)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct json_object *o = json ? json_tokener_parse(line) : NULL;

		if (!o) {
			fwrite(line, 1, (size_t)n, stdout);
			continue;
		}
		json_object_object_add(o, "file", json_object_new_string(path));
		puts(json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	free(line);
}

/* the events of one output as "event code ts" keys, for --compare-config */
static size_t event_keys(FILE *f, char ***ret)
{
	char *line = NULL, **keys = NULL;
	size_t cap = 0, n = 0;

	rewind(f);
	while (getline(&line, &cap, f) > 0) {
		struct json_object *o = json_tokener_parse(line), *ev, *code,
				   *ts;
		char **nk;

		if (!o)
			continue;
		if (json_object_object_get_ex(o, "event", &ev) &&
		    json_object_object_get_ex(o, "code", &code) &&
		    json_object_object_get_ex(o, "ts", &ts) &&
		    (nk = realloc(keys, (n + 1) * sizeof(*keys)))) {
			keys = nk;
			if (asprintf(&keys[n], "%s %s %s",
				     json_object_get_string(ev),
				     json_object_get_string(code),
				     json_object_get_string(ts)) >= 0)
				n++;
		}
		json_object_put(o);
	}
	free(line);
	*ret = keys;
	return n;
}

static bool has_key(char **keys, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i], k))
			return true;
	return false;
}

/* only what differs: "-" under the configuration, "+" under the other */
static unsigned compare_outputs(const struct job *j)
{
	char **a, **b;
	size_t na = event_keys(j->out[0], &a), nb = event_keys(j->out[1], &b);
	unsigned diff = 0;

	for (size_t i = 0; i < na; i++)
		if (!has_key(b, nb, a[i]) && ++diff)
			printf("%s: - %s\n", j->path, a[i]);
	for (size_t i = 0; i < nb; i++)
		if (!has_key(a, na, b[i]) && ++diff)
			printf("%s: + %s\n", j->path, b[i]);
	for (size_t i = 0; i < na; i++)
		free(a[i]);
	for (size_t i = 0; i < nb; i++)
		free(b[i]);
	free(a);
	free(b);
	return diff;
}

static void progress(const struct replay_many_options *o, size_t done, size_t n,
		     off_t bytes_done, off_t bytes, double frames, double t0)
{
	double el = now_s() - t0;
	double left = bytes_done > 0 ? el * (double)(bytes - bytes_done) /
					       (double)bytes_done :
				       0;

	if (o->quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r%3.0f%% of %zu files, %.0f frames/s, %.0f s left   ",
		n ? 100.0 * (double)done / (double)n : 100.0, n,
		el > 0 ? frames / el : 0, left);
	if (done == n)
		fputc('\n', stderr);
}

static void summary(const struct job *jobs, size_t n, FILE *out)
{
	fprintf(out, "%-40s %10s %10s %4s %4s %4s %4s\n", "file", "frames",
		"seconds", "low", "med", "high", "crit");
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = read_stats(jobs[i].stats[0]);
		const char *name = jobs[i].path, *cut = "";
		size_t len = strlen(name);

		/* a long path keeps its end, the file's name, and says so */
		if (len > 40) {
			name += len - 37;
			cut = "...";
		}
		fprintf(out, "%s%-*s %10lld %10.1f %4lld %4lld %4lld %4lld%s\n",
			cut, 40 - (int)strlen(cut), name,
			(long long)stat_i(s, "frames"),
			(double)(stat_i(s, "last_ns") - stat_i(s, "first_ns")) /
				1e9,
			(long long)stat_i(s, "low"),
			(long long)stat_i(s, "medium"),
			(long long)stat_i(s, "high"),
			(long long)stat_i(s, "critical"),
			stat_i(s, "rc") < 0 || !WIFEXITED(jobs[i].status[0]) ?
				"  (failed)" :
				"");
		json_object_put(s);
	}
}

static int start(const struct replay_many_options *o, struct job *j, int which)
{
	pid_t pid;

	j->out[which] = tmpfile();
	j->stats[which] = tmpfile();
	if (!j->out[which] || !j->stats[which])
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(o, j, which);
	j->pid[which] = pid;
	return 0;
}

/* runs every job once per configuration, at most o->jobs at a time */
static int run_all(const struct replay_many_options *o, struct job *jobs,
		   size_t n)
{
	size_t runs = n * (o->compare_config ? 2 : 1), next = 0, done = 0;
	unsigned running = 0, jobs_max = o->jobs ? o->jobs : 1;
	off_t bytes = 0, bytes_done = 0;
	double frames = 0, t0 = now_s();
	int r;

	for (size_t i = 0; i < n; i++)
		bytes += jobs[i].size;
	if (o->compare_config)
		bytes *= 2;
	while (done < runs) {
		while (next < runs && running < jobs_max) {
			r = start(o, &jobs[next % n], (int)(next / n));
			if (r < 0)
				return r;
			next++;
			running++;
		}
		int status;
		pid_t pid = wait(&status);

		if (pid < 0)
			return -errno;
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < 2; k++) {
				struct json_object *s;

				if (jobs[i].pid[k] != pid)
					continue;
				s = read_stats(jobs[i].stats[k]);
				jobs[i].status[k] = status;
				jobs[i].pid[k] = 0;
				frames += (double)stat_i(s, "frames");
				bytes_done += jobs[i].size;
				json_object_put(s);
			}
		running--;
		done++;
		progress(o, done, runs, bytes_done, bytes, frames, t0);
	}
	return 0;
}

int replay_many_run(const struct replay_many_options *o)
{
	struct job *jobs = NULL;
	size_t n = 0, cap = 0;
	unsigned diff = 0;
	bool failed = false;
	int r = 0;

	for (size_t i = 0; i < o->n_inputs && r == 0; i++)
		r = add_input(&jobs, &n, &cap, o->inputs[i]);
	if (r == 0 && !n) {
		log_warnx("--replay: no log files in the inputs given");
		r = -ENOENT;
	}
	if (r == 0)
		r = run_all(o, jobs, n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct json_object *s = read_stats(jobs[i].stats[0]);

		failed |= !s || stat_i(s, "rc") < 0 ||
			  !WIFEXITED(jobs[i].status[0]) ||
			  WEXITSTATUS(jobs[i].status[0]);
		json_object_put(s);
		if (o->compare_config) {
			diff += compare_outputs(&jobs[i]);
			continue;
		}
		if (!o->json && !o->signals)
			printf("== %s\n", jobs[i].path);
		copy_output(jobs[i].out[0], jobs[i].path, o->json);
	}
	if (r == 0 && o->compare_config)
		printf("%u event(s) differ between the two configurations\n",
		       diff);
	else if (r == 0 && !o->signals)
		summary(jobs, n, o->json ? stderr : stdout);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			if (k == 0)
				free(jobs[i].owned);
			if (jobs[i].out[k])
				fclose(jobs[i].out[k]);
			if (jobs[i].stats[k])
				fclose(jobs[i].stats[k]);
		}
	free(jobs);
	if (r < 0)
		return r;
	return failed ? -EIO : 0;
}
