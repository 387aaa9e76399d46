/* event.c: names of DTC event types as the JSON output spells them */
#include "event.h"

const char *dtc_event_type_name(enum dtc_event_type t)
{
	switch (t) {
	case DTC_EVENT_PENDING:
		return "pending";
	case DTC_EVENT_CONFIRMED:
		return "confirmed";
	case DTC_EVENT_HEALED:
		return "healed";
	case DTC_EVENT_CLEARED:
		return "cleared";
	case DTC_EVENT_ECU:
		return "ecu";
	case DTC_EVENT_DROPPED:
		return "dropped";
	}
	return "unknown";
}
