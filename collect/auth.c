/* auth.c: basic-auth users checked with libcrypt, a bearer token */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define AUTH_MAX_USERS 1000
#define AUTH_MIN_TOKEN 16

struct auth_user {
	char *name;
	char *hash;
};

struct auth {
	struct auth_user *users;
	size_t n_users;
	char *token;
};

/* the time does not tell how much of a secret matched */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[lb ? i % lb : 0];
	return d == 0;
}

static int add_user(struct auth *a, const char *path, unsigned line, char *text,
		    char *errbuf, size_t errlen)
{
	char *colon = strchr(text, ':');
	struct auth_user *u;

	if (!colon || colon == text || !colon[1] ||
	    crypt_checksalt(colon + 1) != CRYPT_SALT_OK) {
		snprintf(errbuf, errlen,
			 "%s:%u: expected USER:HASH with a crypt(3) hash "
			 "(openssl passwd -6), got '%.40s'",
			 path, line, text);
		return -EINVAL;
	}
	if (a->n_users >= AUTH_MAX_USERS) {
		snprintf(errbuf, errlen, "%s:%u: more than %d users", path,
			 line, AUTH_MAX_USERS);
		return -E2BIG;
	}
	u = realloc(a->users, (a->n_users + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	a->users = u;
	*colon = '\0';
	u[a->n_users].name = strdup(text);
	u[a->n_users].hash = strdup(colon + 1);
	a->n_users++;
	if (!u[a->n_users - 1].name || !u[a->n_users - 1].hash)
		return -ENOMEM;
	return 0;
}

static int load_users(struct auth *a, const char *path, char *errbuf,
		      size_t errlen)
{
	FILE *f = fopen(path, "re");
	char buf[512];
	unsigned line = 0;
	int r = 0;

	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (r == 0 && fgets(buf, sizeof(buf), f)) {
		line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (!buf[0] || buf[0] == '#')
			continue;
		r = add_user(a, path, line, buf, errbuf, errlen);
	}
	fclose(f);
	if (r == 0 && a->n_users == 0) {
		snprintf(errbuf, errlen, "%s: no USER:HASH line", path);
		r = -EINVAL;
	}
	return r;
}

static int load_token(struct auth *a, const char *path, char *errbuf,
		      size_t errlen)
{
	FILE *f = fopen(path, "re");
	char buf[512] = "";

	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strlen(buf) < AUTH_MIN_TOKEN) {
		snprintf(errbuf, errlen,
			 "%s:1: expected a token of at least %d characters",
			 path, AUTH_MIN_TOKEN);
		return -EINVAL;
	}
	a->token = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return a->token ? 0 : -ENOMEM;
}

int auth_load(struct auth **ret, const char *users_file, const char *token_file,
	      char *errbuf, size_t errlen)
{
	struct auth *a = calloc(1, sizeof(*a));
	int r = 0;

	if (!a)
		return -ENOMEM;
	if (users_file)
		r = load_users(a, users_file, errbuf, errlen);
	if (r == 0 && token_file)
		r = load_token(a, token_file, errbuf, errlen);
	if (r < 0) {
		auth_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_users; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	if (a->token)
		explicit_bzero(a->token, strlen(a->token));
	free(a->token);
	free(a);
}

bool auth_basic(const struct auth *a, const char *user, const char *password)
{
	struct crypt_data data;
	const char *h;

	for (size_t i = 0; user && password && i < a->n_users; i++) {
		if (strcmp(a->users[i].name, user))
			continue;
		memset(&data, 0, sizeof(data));
		h = crypt_rn(password, a->users[i].hash, &data, sizeof(data));
		return h && same(h, a->users[i].hash);
	}
	return false;
}

bool auth_token(const struct auth *a, const char *token)
{
	return a->token && token && same(token, a->token);
}
