/* live.h: the libev loop over a SocketCAN interface */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "pipeline.h"

/* Runs until SIGINT/SIGTERM. Returns 0 or -errno. */
int live_run(struct pipeline *p, const struct config *cfg, bool foreground);
