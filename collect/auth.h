/* auth.h: who may read the dashboard: HTTP basic (crypt(3) hashes), a token */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct auth;

/*
 * users_file: one USER:HASH a line (HASH as crypt(3) makes it, e.g.
 * `openssl passwd -6`; # comments); token_file: a bearer token on its
 * first line, at least 16 characters. Either may be NULL, not both.
 * 0 or -errno, errbuf "FILE:LINE: why".
 */
int auth_load(struct auth **ret, const char *users_file, const char *token_file,
	      char *errbuf, size_t errlen);
void auth_free(struct auth *a);
bool auth_basic(const struct auth *a, const char *user, const char *password);
bool auth_token(const struct auth *a, const char *token);
