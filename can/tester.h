/* tester.h: dtcd's ISO-TP sockets, and the one way a request leaves */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "poll_profile.h"

#define TESTER_MAX_SOCKETS 16

struct tester;

/*
 * Opens the kernel's CAN_ISOTP sockets the plan's targets need:
 * - obd (functional): a send-only socket on 0x7DF (CAN_ISOTP_SF_BROADCAST)
 *   and one socket per ECU, 0x7E0 + n <-> 0x7E8 + n, so a multi-frame
 *   answer to a functional request gets its flow control on that ECU's
 *   physical ID, never on 0x7DF (ISO 15765-4);
 * - 7E0 + n: that ECU's socket;
 * - bmw:ADDR: 0x6F1 with extended address ADDR, answers on 0x600 + ADDR
 *   with 0xF1 (spec 1 C).
 * Returns 0, -EPROTONOSUPPORT (or another -errno of socket()) when the
 * kernel has no CAN_ISOTP, -ENODEV for no such interface.
 */
int tester_new(struct tester **ret, const char *ifname,
	       const struct poll_plan *plan);
/* Takes NULL. Closes the sockets. */
void tester_free(struct tester *t);

/*
 * THE way a frame reaches a socket: the request passes poll_gate_check()
 * first (-EPERM otherwise, nothing sent). 0 or -errno.
 */
int tester_send(struct tester *t, const struct poll_request *to,
		const uint8_t *data, size_t len);

/* The sockets to watch for answers; returns how many (at most max). */
size_t tester_fds(const struct tester *t, int *fds, size_t max);

/*
 * Reads one answer from fd (non-blocking): returns its length (0: none
 * waiting) with the ECU that sent it (POLL_OBD_PHYSICAL + 0..7 or POLL_BMW
 * + address), or -errno (the kernel's ISO-TP errors: -ECOMM, -ETIMEDOUT,
 * -EILSEQ ...; the message is lost, the socket stays usable).
 */
int tester_read(struct tester *t, int fd, enum poll_target *ret_target,
		uint8_t *ret_ecu, uint8_t *buf, size_t len);

/*
 * One CAN_ISOTP socket (non-blocking) bound on ifname: sends on tx_id,
 * receives on rx_id; tx_ext / rx_ext >= 0 for extended addressing; frames
 * padded with pad. The simulator's ECUs open theirs with it too.
 */
int tester_socket_open(const char *ifname, uint32_t tx_id, uint32_t rx_id,
		       int tx_ext, int rx_ext, bool sf_broadcast, uint8_t pad);
