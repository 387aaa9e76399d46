/* dbc_dump.c: decodes frames with a DBC and prints every signal present */
/*
 * Usage: dbc_dump DBC FRAMES_FILE
 * FRAMES_FILE lines: "ID_HEX EXT(0/1) DATA_HEX" (DATA_HEX may be empty).
 * Prints "idx message signal value" (%.17g) per decoded signal, idx being
 * the frame's 0-based line index among the frame lines. dbc_compare.py
 * checks this output against python3-canmatrix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbc.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_line(char *line, uint32_t *ret_id, int *ret_ext, uint8_t *data,
		      size_t *ret_len)
{
	char *id_s, *ext_s, *data_s, *save = NULL, *end;
	size_t i, n;

	id_s = strtok_r(line, " \t\r\n", &save);
	ext_s = strtok_r(NULL, " \t\r\n", &save);
	data_s = strtok_r(NULL, " \t\r\n", &save);
	if (!id_s || !ext_s || (strcmp(ext_s, "0") && strcmp(ext_s, "1")))
		return -EINVAL;
	errno = 0;
	*ret_id = (uint32_t)strtoul(id_s, &end, 16);
	if (errno || *end)
		return -EINVAL;
	*ret_ext = ext_s[0] == '1';
	n = data_s ? strlen(data_s) : 0;
	if (n % 2 || n / 2 > 64)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(data_s[2 * i]), lo = hexval(data_s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		data[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = n / 2;
	return 0;
}

int main(int argc, char **argv)
{
	char err[512], line[512];
	struct dbc *dbc;
	unsigned long idx = 0, lineno = 0;
	int bad = 0, r;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DBC FRAMES_FILE\n", argv[0]);
		return 2;
	}
	r = dbc_load(&dbc, argv[1], err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	f = fopen(argv[2], "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		dbc_free(dbc);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		const struct dbc_message *m;
		uint8_t data[64];
		uint32_t id;
		size_t len, i;
		int ext;

		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (parse_line(line, &id, &ext, data, &len) < 0) {
			fprintf(stderr,
				"%s:%lu: expected ID_HEX EXT DATA_HEX\n",
				argv[2], lineno);
			bad = 1;
			idx++;
			continue;
		}
		m = dbc_find_message(dbc, id, ext);
		for (i = 0; m && i < dbc_message_n_signals(m); i++) {
			const struct dbc_signal *s =
				dbc_message_signal_at(m, i);
			double v;

			if (dbc_signal_decode(s, data, len, &v) == 0)
				printf("%lu %s %s %.17g\n", idx,
				       dbc_message_name(m), dbc_signal_name(s),
				       v);
		}
		idx++;
	}
	fclose(f);
	dbc_free(dbc);
	return bad;
}
