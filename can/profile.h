/* profile.h: a vehicle profile binds each canonical signal to its sources */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poll_profile.h"
#include "signal.h"

#define PROFILE_NAME_MAX 64
#define PROFILE_MAX_ECUS 8

struct profile_dbc_binding {
	enum signal_id sig;
	char *message;
	char *signal;
	unsigned line;
};

struct profile_obd_binding {
	enum signal_id sig;
	uint8_t pid;
	int field; /* index for obd_pid_value's field */
};

struct profile_monitor_binding {
	enum signal_id sig;
	uint8_t mid, tid;
};

enum profile_did_type {
	PROFILE_DID_UNSIGNED,
	PROFILE_DID_SIGNED,
	PROFILE_DID_BIT,  /* one bit of the byte at offset */
	PROFILE_DID_TEXT, /* ASCII, e.g. the VIN */
};

struct profile_did_binding {
	enum signal_id sig;
	uint16_t did;
	unsigned offset, length;
	enum profile_did_type type;
	unsigned bit;
	double scale, add;
};

struct profile {
	char name[PROFILE_NAME_MAX];
	char *path;
	char *dbc_path; /* resolved against the profile's directory; may be NULL
			 */
	struct profile_dbc_binding *dbc;
	size_t n_dbc;
	struct profile_obd_binding *obd;
	size_t n_obd;
	struct profile_monitor_binding *monitor;
	size_t n_monitor;
	struct profile_did_binding *did;
	size_t n_did;
	/* OBD answers accepted from these IDs (0x7E8..); none listed = all */
	uint32_t obd_ecus[PROFILE_MAX_ECUS];
	size_t n_obd_ecus;
	uint8_t did_ecu; /* BMW address of the ECU the DIDs are read from */
	int64_t isotp_timeout_ns;
	bool bound[SIG__MAX];  /* the signal has at least one source */
	struct poll_plan poll; /* [poll]: what dtcd asks when it polls */
};

/*
 * Loads a profile INI. On a bad one returns -EINVAL (-errno for I/O) with
 * "FILE:LINE: what was expected" in errbuf.
 */
int profile_load(struct profile **ret, const char *path, char *errbuf,
		 size_t errlen);
/* Takes NULL. */
void profile_free(struct profile *p);

/*
 * NAME or PATH: a name is looked up as NAME.ini in the directories of
 * search_dirs (NULL-terminated). Returns 0 with a malloc'd path or -ENOENT.
 */
int profile_find(const char *name_or_path, const char *const *search_dirs,
		 char **ret_path);
