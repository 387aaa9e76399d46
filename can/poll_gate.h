/* poll_gate.h: the read-only whitelist every request dtcd sends must pass */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Checks one diagnostic request (the payload after ISO-TP: service byte
 * first). Allowed, and nothing else:
 * - OBD-II (SAE J1979) services 01, 02, 03, 06, 07, 09, 0A: they only read
 *   (04 clears DTCs, 08 controls on-board systems);
 * - UDS 0x22 ReadDataByIdentifier with one or more DIDs;
 * - UDS 0x19 ReadDTCInformation with sub-function 0x01, 0x02, 0x04 or 0x06
 *   (numbers, lists, snapshots and extended data of DTCs), without the
 *   suppress-positive-response bit.
 * Returns 0, or -EPERM with the reason in why (for FILE:LINE errors and the
 * log). -EINVAL for an empty or impossible request (why says so too).
 *
 * Pure: the same bytes always give the same answer. tester_send() calls it
 * for every frame before it reaches a socket; the profile loader calls it
 * for every [poll] entry, so a bad one is refused at load.
 */
int poll_gate_check(const uint8_t *req, size_t len, char *why, size_t whylen);
