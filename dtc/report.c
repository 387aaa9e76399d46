/* report.c: names of severities */
#include "report.h"

const char *dtc_severity_name(enum dtc_severity s)
{
	switch (s) {
	case DTC_SEVERITY_LOW:
		return "low";
	case DTC_SEVERITY_MEDIUM:
		return "medium";
	case DTC_SEVERITY_HIGH:
		return "high";
	case DTC_SEVERITY_CRITICAL:
		return "critical";
	case DTC_SEVERITY_DEFAULT:
		break;
	}
	return "unknown";
}
