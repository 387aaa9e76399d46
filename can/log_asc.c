/* log_asc.c: Vector ASC logs (CANoe/CANalyzer, python-can's ASCWriter) */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log_format.h"

/*
 * An ASC file is text: a header ("date ...", "base hex|dec  timestamps
 * absolute|relative"), a "Begin Triggerblock DATE" line that sets the time
 * base, and one event per line:
 *
 *	0.001234 1  123x            Rx   d 8 00 11 22 33 44 55 66 77 ...
 *	0.002000 1  7DF             Tx   r 8
 *	0.003000 1  ErrorFrame
 *	0.004000 CANFD   1 Rx  7E8  [name]  1 0 f 64 00 11 ... (more fields)
 *
 * Times count from the measurement start (or, with "timestamps relative",
 * from the event before). Lines of other kinds (statistics, J1939, comments,
 * "Start of measurement") are skipped without an error, as Vector's own
 * readers do; a line that starts like a CAN event and then does not parse is
 * reported.
 */

#define LINE_MAX_ASC 4096

struct asc_state {
	struct log_source src; /* first: position is the line */
	int base;	       /* 16 or 10 */
	bool relative;	       /* "timestamps relative": deltas */
	int64_t last_ns;       /* of the previous event (relative mode) */
	char *buf;
	size_t cap;
};

static const char *const months[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};
/* German month names CANoe writes on a German Windows */
static const char *const months_de[] = { "jan", "feb", "mär", "apr",
					 "mai", "jun", "jul", "aug",
					 "sep", "okt", "nov", "dez" };

static int month_of(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(s, months[i], 3) ||
		    !strncasecmp(s, months_de[i], strlen(months_de[i])))
			return i;
	return -1;
}

/*
 * "Mon Jun 10 06:13:20.123 am 2024" or "Mon Jun 10 18:13:20.123 2024" (also
 * without the fraction): local time of the logging machine, as Vector and
 * python-can write it. Returns 0 with nanoseconds since 1970, or -EINVAL.
 */
int log_asc_parse_date(const char *s, int64_t *ret_ns)
{
	char wday[16], mon[16], ampm[8] = "";
	int day, hour, min, year, n = 0;
	double sec;
	struct tm tm = { 0 };
	const char *p;
	time_t t;
	int m;

	if (sscanf(s, "%15s %15s %d %d:%d:%lf %n", wday, mon, &day, &hour, &min,
		   &sec, &n) < 6 ||
	    !n)
		return -EINVAL;
	p = s + n;
	if (!strncasecmp(p, "am", 2) || !strncasecmp(p, "pm", 2)) {
		memcpy(ampm, p, 2);
		p += 2;
	}
	if (sscanf(p, "%d", &year) != 1)
		return -EINVAL;
	m = month_of(mon);
	if (m < 0 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 ||
	    min > 59 || sec < 0 || sec >= 61 || year < 1970 || year > 9999)
		return -EINVAL;
	if (ampm[0]) {
		if (hour < 1 || hour > 12)
			return -EINVAL;
		hour %= 12;
		if (tolower((unsigned char)ampm[0]) == 'p')
			hour += 12;
	}
	tm.tm_year = year - 1900;
	tm.tm_mon = m;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = (int)sec;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret_ns = (int64_t)t * 1000000000 +
		  (int64_t)((sec - (int)sec) * 1e3 + 0.5) * 1000000;
	return 0;
}

static void asc_report(struct asc_state *s, const char *what)
{
	log_source_report(&s->src, what);
}

/* "12.345678" seconds -> ns, exactly (no double rounding) */
static bool parse_time(const char *tok, int64_t *ret_ns)
{
	int64_t sec = 0, frac = 0;
	int digits = 0;
	const char *p = tok;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > INT64_MAX / 10 / 1000000000)
			return false;
		sec = sec * 10 + (*p - '0');
	}
	if (*p++ != '.')
		return false;
	for (; isdigit((unsigned char)*p); p++, digits++)
		if (digits < 9)
			frac = frac * 10 + (*p - '0');
	if (*p || !digits)
		return false;
	for (int i = digits; i < 9; i++)
		frac *= 10;
	*ret_ns = sec * 1000000000 + frac;
	return true;
}

static bool parse_num(const char *tok, int base, unsigned long max,
		      unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!tok || !isxdigit((unsigned char)*tok))
		return false;
	errno = 0;
	v = strtoul(tok, &end, base);
	if (errno || *end || v > max)
		return false;
	*ret = v;
	return true;
}

/* "123" or "1ABCDEF0x" (extended) */
static bool parse_id(const char *tok, int base, struct frame *f)
{
	char id[16];
	size_t n = tok ? strlen(tok) : 0;
	unsigned long v;

	if (!n || n >= sizeof(id))
		return false;
	memcpy(id, tok, n + 1);
	if (id[n - 1] == 'x' || id[n - 1] == 'X') {
		id[n - 1] = '\0';
		f->flags |= FRAME_EFF;
	}
	if (!parse_num(id, base, f->flags & FRAME_EFF ? 0x1fffffff : 0x7ff, &v))
		return false;
	f->id = (uint32_t)v;
	return true;
}

static const uint8_t dlc_len[16] = { 0, 1,  2,	3,  4,	5,  6,	7,
				     8, 12, 16, 20, 24, 32, 48, 64 };

static bool parse_bytes(char **save, int base, struct frame *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned long b;

		if (!parse_num(strtok_r(NULL, " \t", save), base, 0xff, &b))
			return false;
		f->data[i] = (uint8_t)b;
	}
	f->len = (uint8_t)n;
	return true;
}

static void set_dir(struct frame *f, const char *dir)
{
	f->dir = !strcasecmp(dir, "tx") ? 'T' : 'R';
}

/* after "<ch>": "ErrorFrame", or "<id> <Rx|Tx> d|r <dlc> <bytes>..." */
static const char *parse_classic(char **save, int base, struct frame *f)
{
	char *tok = strtok_r(NULL, " \t", save), *dir, *kind;
	unsigned long dlc = 0;

	/* the line holds no class and no data: an error frame of length 0 */
	if (tok && !strncasecmp(tok, "errorframe", 10)) {
		f->flags |= FRAME_ERR;
		return NULL;
	}
	if (!parse_id(tok, base, f))
		return "a CAN ID (hex, 'x' for 29 bits) or ErrorFrame";
	dir = strtok_r(NULL, " \t", save);
	if (!dir || (strcasecmp(dir, "rx") && strcasecmp(dir, "tx")))
		return "Rx or Tx";
	set_dir(f, dir);
	kind = strtok_r(NULL, " \t", save);
	if (!kind || (strcasecmp(kind, "d") && strcasecmp(kind, "r")))
		return "d (data) or r (remote)";
	tok = strtok_r(NULL, " \t", save);
	if (tolower((unsigned char)kind[0]) == 'r') {
		f->flags |= FRAME_RTR;
		if (tok && parse_num(tok, 16, 15, &dlc)) {
			f->len = dlc > 8 ? 8 : (uint8_t)dlc;
			/* a raw DLC 9..F, as candump's "R8_F" */
			if (dlc > 8)
				f->len8_dlc = (uint8_t)dlc;
		}
		return NULL;
	}
	if (!parse_num(tok, 16, 15, &dlc))
		return "a DLC 0..F";
	if (dlc > 8)
		f->len8_dlc = (uint8_t)dlc;
	if (!parse_bytes(save, base, f, dlc > 8 ? 8 : (unsigned)dlc))
		return "as many data bytes as the DLC says";
	return NULL;
}

/* after "CANFD": "<ch> <Rx|Tx> <id> [name] <brs> <esi> <dlc> <len> <bytes>" */
static const char *parse_fd(char **save, int base, struct frame *f,
			    unsigned long *ret_ch)
{
	char *tok, *dir;
	unsigned long ch, brs, esi, dlc, len;

	if (!parse_num(strtok_r(NULL, " \t", save), 10, 255, &ch))
		return "a channel number";
	*ret_ch = ch;
	dir = strtok_r(NULL, " \t", save);
	if (!dir || (strcasecmp(dir, "rx") && strcasecmp(dir, "tx")))
		return "Rx or Tx";
	set_dir(f, dir);
	tok = strtok_r(NULL, " \t", save);
	if (tok && !strncasecmp(tok, "errorframe", 10)) {
		f->flags |= FRAME_ERR;
		return NULL;
	}
	if (!parse_id(tok, base, f))
		return "a CAN ID";
	f->flags |= FRAME_FD;
	tok = strtok_r(NULL, " \t", save);
	/* an optional symbolic name stands before the BRS digit */
	if (tok && strcmp(tok, "0") && strcmp(tok, "1"))
		tok = strtok_r(NULL, " \t", save);
	if (!parse_num(tok, 10, 1, &brs) ||
	    !parse_num(strtok_r(NULL, " \t", save), 10, 1, &esi))
		return "BRS and ESI (0 or 1)";
	if (brs)
		f->flags |= FRAME_BRS;
	if (esi)
		f->flags |= FRAME_ESI;
	if (!parse_num(strtok_r(NULL, " \t", save), 16, 15, &dlc) ||
	    !parse_num(strtok_r(NULL, " \t", save), 10, 64, &len) ||
	    (len && len != dlc_len[dlc]))
		return "a DLC and a data length that belong together";
	if (!parse_bytes(save, base, f, (unsigned)len))
		return "as many data bytes as the length says";
	return NULL;
}

/* a header line: base, time mode, the trigger block's date */
static bool asc_header(struct asc_state *s, char *line)
{
	char *p = line + strspn(line, " \t");

	if (!strncasecmp(p, "base ", 5)) {
		s->base = strstr(p, "dec") ? 10 : 16;
		s->relative = strstr(p, "relative") != NULL;
		return true;
	}
	if (!strncasecmp(p, "begin triggerblock", 18)) {
		int64_t t;

		p += 18;
		if (log_asc_parse_date(p + strspn(p, " \t"), &t) == 0)
			s->src.origin_ns = t;
		s->last_ns = 0;
		return true;
	}
	if (!strncasecmp(p, "date ", 5)) {
		int64_t t;

		if (!s->src.origin_ns &&
		    log_asc_parse_date(p + 5 + strspn(p + 5, " \t"), &t) == 0)
			s->src.origin_ns = t;
		return true;
	}
	return false;
}

/* 1 frame, 0 not a frame line, -EINVAL reported */
static int asc_line(struct asc_state *s, char *line, struct frame *f)
{
	char *save = NULL, *tok, *ch_tok;
	const char *what = NULL;
	unsigned long ch = 0;
	int64_t t;

	if (asc_header(s, line))
		return 0;
	tok = strtok_r(line, " \t\r\n", &save);
	if (!tok || !parse_time(tok, &t))
		return 0; /* comments, "End TriggerBlock", ... */
	ch_tok = strtok_r(NULL, " \t\r\n", &save);
	if (!ch_tok)
		return 0;
	*f = (struct frame){ 0 };
	if (!strcasecmp(ch_tok, "canfd")) {
		what = parse_fd(&save, s->base, f, &ch);
	} else if (parse_num(ch_tok, 10, 255, &ch)) {
		/* "1 Statistic: ...", "1 J1939TP ..." are no frames */
		char *peek = save + strspn(save, " \t");

		if (!strncasecmp(peek, "statistic", 9) ||
		    !strncasecmp(peek, "j1939", 5) ||
		    !strncasecmp(peek, "chip", 4))
			return 0;
		what = parse_classic(&save, s->base, f);
	} else {
		return 0; /* "Start of measurement", system variables */
	}
	if (what) {
		char msg[128];

		snprintf(msg, sizeof(msg), "ASC CAN event: expected %s", what);
		asc_report(s, msg);
		return -EINVAL;
	}
	if (s->relative)
		t = s->last_ns += t;
	f->ts_ns = s->src.origin_ns + t;
	/* python-can and Vector number channels from 1; candump's can0 is 1 */
	snprintf(f->iface, sizeof(f->iface), "can%lu", ch ? ch - 1 : 0);
	return 1;
}

static int asc_next(void *state, struct frame *ret_frame)
{
	struct asc_state *s = state;
	ssize_t n;

	while ((n = getline(&s->buf, &s->cap, s->src.f)) >= 0) {
		int r;

		s->src.position++;
		if (n > LINE_MAX_ASC) {
			asc_report(s, "an ASC line of at most 4096 characters");
			continue;
		}
		while (n > 0 &&
		       (s->buf[n - 1] == '\n' || s->buf[n - 1] == '\r'))
			s->buf[--n] = '\0';
		r = asc_line(s, s->buf, ret_frame);
		if (r > 0)
			return 1;
	}
	return ferror(s->src.f) ? -EIO : 0;
}

static bool asc_sniff(const uint8_t *head, size_t len)
{
	char text[1024];
	char *line, *save = NULL;
	int lines = 0;

	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	memcpy(text, head, len);
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line && lines < 8;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		char *p = line + strspn(line, " \t");
		int64_t t;
		char *sp;

		if (*p == '(')
			return false; /* candump */
		if (!strncasecmp(p, "date ", 5) ||
		    !strncasecmp(p, "base ", 5) ||
		    !strncasecmp(p, "begin triggerblock", 18))
			return true;
		sp = strpbrk(p, " \t");
		if (sp) {
			char c = *sp;

			*sp = '\0';
			if (parse_time(p, &t)) {
				*sp = c;
				return true;
			}
			*sp = c;
		}
	}
	return false;
}

static int asc_open(void **ret, FILE *f, const char *path,
		    candump_error_fn on_error, void *userdata)
{
	struct asc_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	log_source_init(&s->src, f, path, on_error, userdata);
	s->base = 16;
	*ret = s;
	return 0;
}

static void asc_free(void *state)
{
	struct asc_state *s = state;

	if (!s)
		return;
	free(s->buf);
	free(s);
}

const struct log_format_ops log_asc_ops = {
	.name = "asc",
	.sniff = asc_sniff,
	.open = asc_open,
	.next = asc_next,
	.position = log_source_position,
	.errors = log_source_errors,
	.free = asc_free,
};

/* ---- the writer: lines as python-can's ASCWriter writes them ---- */

struct asc_writer {
	FILE *f;
	bool started;
	int64_t start_ns;
};

/* "Mon Jun 10 06:13:20.123 AM 2024" in local time, as the reader reads */
static void asc_date(int64_t ns, char *buf, size_t len)
{
	/* ns is a whole millisecond (log_format_start), also before 1970 */
	int64_t ms = ns / 1000000, sec = ms / 1000 - (ms % 1000 < 0);
	time_t t = (time_t)sec;
	struct tm tm;
	char a[32], b[16];

	localtime_r(&t, &tm);
	strftime(a, sizeof(a), "%a %b %d %I:%M:%S", &tm);
	strftime(b, sizeof(b), "%p %Y", &tm);
	snprintf(buf, len, "%s.%03d %s", a, (int)(ms - sec * 1000), b);
}

static int asc_writer_open(void **ret_state, FILE *f)
{
	struct asc_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->f = f;
	*ret_state = w;
	return 0;
}

/* "{timestamp: 9.6f} ": seconds since the first frame */
static void asc_time(struct asc_writer *w, int64_t ns)
{
	int64_t us = (ns - w->start_ns) / 1000;
	char num[40];

	snprintf(num, sizeof(num), " %lld.%06lld", (long long)(us / 1000000),
		 (long long)(us % 1000000));
	fprintf(w->f, "%9s ", num);
}

static void asc_start(struct asc_writer *w, int64_t ns)
{
	char date[64];

	w->started = true;
	w->start_ns = log_format_start(ns);
	asc_date(w->start_ns, date, sizeof(date));
	fprintf(w->f,
		"date %s\nbase hex  timestamps absolute\n"
		"internal events logged\nBegin Triggerblock %s\n",
		date, date);
	asc_time(w, ns);
	fputs("Start of measurement\n", w->f);
}

static void asc_data(FILE *f, const struct frame *fr, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%02X", i ? " " : "", fr->data[i]);
}

static int asc_writer_put(void *state, const struct frame *fr)
{
	struct asc_writer *w = state;
	unsigned ch = log_format_channel(fr->iface);
	unsigned len = fr->len > FRAME_MAX_DATA ? FRAME_MAX_DATA : fr->len;
	const char *dir = fr->dir == 'T' ? "Tx" : "Rx";
	char id[16];

	if (!w->started)
		asc_start(w, fr->ts_ns);
	/* times count from the first frame and cannot be negative */
	if (fr->ts_ns < w->start_ns)
		return -ERANGE;
	asc_time(w, fr->ts_ns);
	if (fr->flags & FRAME_ERR) {
		fprintf(w->f, "%u  ErrorFrame\n", ch);
		return ferror(w->f) ? -EIO : 0;
	}
	snprintf(id, sizeof(id), "%X%s", fr->id,
		 (fr->flags & FRAME_EFF) ? "x" : "");
	if (fr->flags & FRAME_FD) {
		unsigned flags = 1 << 12;

		flags |= (fr->flags & FRAME_BRS) ? 1 << 13 : 0;
		flags |= (fr->flags & FRAME_ESI) ? 1 << 14 : 0;
		fprintf(w->f, "CANFD %3u %-4s %8s  %32s %d %d %x %2u ", ch, dir,
			id, "", (fr->flags & FRAME_BRS) ? 1 : 0,
			(fr->flags & FRAME_ESI) ? 1 : 0, log_format_fd_dlc(len),
			len);
		asc_data(w->f, fr, len);
		fprintf(w->f, " %8d %4d %8X %8d %8d %8d %8d %8d\n", 0, 0, flags,
			0, 0, 0, 0, 0);
	} else if (fr->flags & FRAME_RTR) {
		fprintf(w->f, "%u  %-15s %-4s r %x \n", ch, id, dir,
			log_format_classic_dlc(fr));
	} else {
		fprintf(w->f, "%u  %-15s %-4s d %x ", ch, id, dir,
			log_format_classic_dlc(fr));
		len = len > 8 ? 8 : len;
		asc_data(w->f, fr, len);
		fputc('\n', w->f);
	}
	return ferror(w->f) ? -EIO : 0;
}

static int asc_writer_finish(void *state)
{
	struct asc_writer *w = state;

	if (!w->started)
		asc_start(w, 0);
	fputs("End TriggerBlock\n", w->f);
	return fflush(w->f) || ferror(w->f) ? -EIO : 0;
}

static void asc_writer_free(void *state)
{
	free(state);
}

const struct log_writer_ops log_asc_writer_ops = {
	.name = "asc",
	.open = asc_writer_open,
	.put = asc_writer_put,
	.finish = asc_writer_finish,
	.free = asc_writer_free,
};
