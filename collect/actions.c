/* actions.c: both languages of dtcd's catalogue, for pages and reports */
#include <string.h>

#include "actions.h"
#include "catalogue.h"

int actions_load(struct actions *a, const char *etc_dir, char *errbuf,
		 size_t errlen)
{
	int r;

	a->en = a->de = NULL;
	r = catalogue_load(&a->en, etc_dir, "en", errbuf, errlen);
	if (r == 0)
		r = catalogue_load(&a->de, etc_dir, "de", errbuf, errlen);
	if (r < 0)
		actions_free(a);
	return r;
}

void actions_free(struct actions *a)
{
	if (!a)
		return;
	catalogue_free(a->en);
	catalogue_free(a->de);
	a->en = a->de = NULL;
}

static const struct catalogue_entry *entry(const struct actions *a,
					   const char *code, const char *lang)
{
	const struct catalogue *c = lang && !strcmp(lang, "de") ? a->de : a->en;

	return c && code ? catalogue_find(c, code) : NULL;
}

const char *actions_title(const struct actions *a, const char *code,
			  const char *lang)
{
	const struct catalogue_entry *e = entry(a, code, lang);

	return e ? e->title : NULL;
}

const char *actions_action(const struct actions *a, const char *code,
			   const char *lang)
{
	const struct catalogue_entry *e = entry(a, code, lang);

	return e ? e->action : NULL;
}
