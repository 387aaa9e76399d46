/* macro.h: the few macros every layer shares (ARRAY_SIZE, container_of) */
#pragma once

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the struct that holds member ptr, wherever in it the member is */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
