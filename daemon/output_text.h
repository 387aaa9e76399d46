/* output_text.h: one readable line per DTC event (the default on stdout) */
#pragma once

#include <stdio.h>

#include "output.h"

/* lang "de" labels them in German */
int output_text_new(struct output *ret, FILE *out, const char *lang);
