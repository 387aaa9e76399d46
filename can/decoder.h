/* decoder.h: frames in, canonical signals out, as a vehicle profile binds them
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "profile.h"
#include "signal.h"

struct decoder;

struct decoder_ops {
	/* table->slot[id] was just updated (valid or "no value") */
	void (*signal)(void *userdata, int64_t ts_ns, enum signal_id id,
		       const struct signal_slot *slot);
	/* OBD service 01 PID 01 of one ECU (answer ID, e.g. 0x7E8) */
	void (*ecu_status)(void *userdata, int64_t ts_ns, uint32_t ecu_id,
			   int mil_on, int dtc_count);
	/* OBD services 03/07/0A of one ECU */
	void (*ecu_codes)(void *userdata, int64_t ts_ns, uint32_t ecu_id,
			  uint8_t service, const uint16_t *codes, size_t n);
	/* a profile binding that cannot be resolved (DBC lacks it) */
	void (*warning)(void *userdata, const char *what);
};

/*
 * The decoder loads the profile's DBC. Returns 0, or -errno with the reason
 * ("FILE:LINE: ...") in errbuf.
 */
int decoder_new(struct decoder **ret, const struct profile *profile,
		struct signal_table *table, const struct decoder_ops *ops,
		void *userdata, char *errbuf, size_t errlen);
/* Takes NULL. */
void decoder_free(struct decoder *d);

void decoder_feed(struct decoder *d, const struct frame *f);

/*
 * What the decoder reads, for the kernel's receive filter: the DBC messages
 * it binds (ids[i], eff[i] for 29 bit; returns how many, perhaps more than
 * max, of which the first max are written), and whether it reads diagnostic
 * answers (OBD-II on 0x7DF-0x7EF, BMW on 0x600-0x6FF).
 */
size_t decoder_dbc_ids(const struct decoder *d, uint32_t *ids, bool *eff,
		       size_t max);
bool decoder_reads_diagnostics(const struct decoder *d);
