/* bus.h: the reference vehicle's frames: broadcasts, OBD-II and UDS testers */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "poll_profile.h"
#include "scenario.h"
#include "writer.h"

struct bus;

/*
 * plan (may be NULL; must outlive the bus): the testers ask its requests
 * to the DME (BMW address 0x12, OBD-II 0x7DF / 0x7E0) at its rates instead
 * of the built-in rounds, as dtcd --poll with that profile would.
 */
int bus_new(struct bus **ret, const struct scenario *sc, uint64_t seed,
	    struct writer *w, const struct poll_plan *plan);
/* Takes NULL. */
void bus_free(struct bus *b);

/*
 * Queues the frames of the model step that starts at t_us (log time in
 * microseconds): broadcasts due in it, tester requests and the DME's answers
 * (which may lie a few ms later). Returns 0 or -errno.
 */
int bus_step(struct bus *b, const struct model *m, int64_t t_us);
/* The bus fell asleep: schedules start over at the next wake-up. */
void bus_sleep(struct bus *b);

/*
 * Live mode: the answer of the DME (uds: 22 DID on 0x6F1) or of its OBD-II
 * side (01/03/06/07/0A, with the supported-PID bitmaps) to req, from the
 * model now. Returns its length in out (room for 32), 0 for no answer.
 */
size_t bus_answer(const struct bus *b, const struct model *m, bool uds,
		  const uint8_t *req, size_t len, uint8_t *out);

/* BMW PT-CAN checksums (opendbc dzid26 fork, bmwcan.py) */
uint8_t bus_checksum8(uint32_t id, const uint8_t *data, unsigned len);
uint8_t bus_checksum4(uint32_t id, const uint8_t *data, unsigned len);
