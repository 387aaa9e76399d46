/* report.c: names and drop ranks of severities */
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

int dtc_severity_drop_rank(enum dtc_severity s)
{
	switch (s) {
	case DTC_SEVERITY_CRITICAL:
		return 3;
	case DTC_SEVERITY_HIGH:
		return 2;
	case DTC_SEVERITY_LOW:
		return 0;
	default:
		return 1;
	}
}
