/* ini_lines.c: a line-counting reader under libinih's ini_parse_stream() */
#include <errno.h>
#include <ini.h>
#include <string.h>

#include "ini_lines.h"

static char *ini_lines_read(char *str, int num, void *stream)
{
	struct ini_lines *ini = stream;
	char *r = fgets(str, num, ini->f);
	size_t len;

	if (!r)
		return NULL;
	/* a chunk that begins a line is a new line; a long line comes in parts
	 */
	if (ini->at_bol) {
		ini->line++;
		if (str[strspn(str, " \t")] == '[')
			ini->section_line = ini->line;
	}
	len = strlen(str);
	ini->at_bol = len > 0 && str[len - 1] == '\n';
	if (!ini->at_bol && !feof(ini->f) && !ini->long_line)
		ini->long_line = ini->line;
	return r;
}

int ini_lines_parse(const char *path, struct ini_lines *ini,
		    int (*handler)(void *user, const char *section,
				   const char *name, const char *value),
		    void *user)
{
	int r;

	memset(ini, 0, sizeof(*ini));
	ini->at_bol = true;
	ini->f = fopen(path, "re");
	if (!ini->f)
		return -errno;
	r = ini_parse_stream(ini_lines_read, ini, handler, user);
	fclose(ini->f);
	ini->f = NULL;
	if (r < 0)
		return -ENOMEM;
	if (ini->long_line && (r == 0 || ini->long_line < r))
		return ini->long_line;
	return r;
}
