/* poll_gate.c: the read-only whitelist of diagnostic requests */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "poll_gate.h"

/*
 * Why a refused service would be dangerous, for the message: a box on the
 * car's bus must never be able to change the car (one of the recalls
 * behind this project was remote commands that opened cars).
 */
static const struct {
	uint8_t sid;
	const char *what;
} refused_names[] = {
	{ 0x04, "OBD 04 clears the DTCs and the readiness monitors" },
	{ 0x08, "OBD 08 controls on-board systems" },
	{ 0x10, "UDS 0x10 DiagnosticSessionControl changes the ECU's session" },
	{ 0x11, "UDS 0x11 ECUReset restarts the ECU" },
	{ 0x14, "UDS 0x14 ClearDiagnosticInformation clears DTCs" },
	{ 0x27, "UDS 0x27 SecurityAccess unlocks protected services" },
	{ 0x28, "UDS 0x28 CommunicationControl silences ECUs" },
	{ 0x2E, "UDS 0x2E WriteDataByIdentifier writes to the ECU" },
	{ 0x2F, "UDS 0x2F InputOutputControl moves actuators" },
	{ 0x31, "UDS 0x31 RoutineControl runs routines in the ECU" },
	{ 0x34, "UDS 0x34 RequestDownload starts a flash download" },
	{ 0x3D, "UDS 0x3D WriteMemoryByAddress writes ECU memory" },
	{ 0x3E, "UDS 0x3E TesterPresent keeps a session open" },
	{ 0x85, "UDS 0x85 ControlDTCSetting stops DTC recording" },
};

static bool obd_read_service(uint8_t sid)
{
	switch (sid) {
	case 0x01:
	case 0x02:
	case 0x03:
	case 0x06:
	case 0x07:
	case 0x09:
	case 0x0A:
		return true;
	default:
		return false;
	}
}

static int refuse(char *why, size_t whylen, uint8_t sid)
{
	for (size_t i = 0; i < sizeof(refused_names) / sizeof(*refused_names);
	     i++)
		if (refused_names[i].sid == sid) {
			snprintf(why, whylen,
				 "service %02X refused: %s; dtcd only reads "
				 "(OBD 01 02 03 06 07 09 0A, UDS 22, 19 "
				 "01/02/04/06)",
				 sid, refused_names[i].what);
			return -EPERM;
		}
	snprintf(why, whylen,
		 "service %02X refused: not a read-only service (dtcd only "
		 "sends OBD 01 02 03 06 07 09 0A, UDS 22, 19 01/02/04/06)",
		 sid);
	return -EPERM;
}

int poll_gate_check(const uint8_t *req, size_t len, char *why, size_t whylen)
{
	uint8_t sid, sub;

	if (len == 0) {
		snprintf(why, whylen, "empty request");
		return -EINVAL;
	}
	sid = req[0];
	if (obd_read_service(sid))
		return 0;
	if (sid == 0x22) {
		/* 22 DID [DID ...]: whole DIDs only */
		if (len < 3 || (len - 1) % 2 != 0) {
			snprintf(why, whylen,
				 "UDS 22 needs one or more 2-byte DIDs");
			return -EINVAL;
		}
		return 0;
	}
	if (sid == 0x19) {
		if (len < 2) {
			snprintf(why, whylen,
				 "UDS 19 needs a sub-function (01 02 04 06)");
			return -EINVAL;
		}
		sub = req[1];
		if (sub == 0x01 || sub == 0x02 || sub == 0x04 || sub == 0x06)
			return 0;
		snprintf(why, whylen,
			 "UDS 19 sub-function %02X refused: only 01 02 04 06 "
			 "(report DTC number, DTCs, snapshot, extended data) "
			 "are read-only%s",
			 sub,
			 sub & 0x80 ? " and answered (bit 7 suppresses the "
				      "answer)" :
				      "");
		return -EPERM;
	}
	return refuse(why, whylen, sid);
}
