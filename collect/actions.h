/* actions.h: the workshop actions in English and German, by DTC code */
#pragma once

#include <stddef.h>

struct catalogue;

struct actions {
	struct catalogue *en, *de;
};

/* etc_dir/actions.en.ini and actions.de.ini; 0 or -errno, errbuf why */
int actions_load(struct actions *a, const char *etc_dir, char *errbuf,
		 size_t errlen);
void actions_free(struct actions *a);
/* code's title and action in lang ("en", "de"); NULL when not known */
const char *actions_title(const struct actions *a, const char *code,
			  const char *lang);
const char *actions_action(const struct actions *a, const char *code,
			   const char *lang);
