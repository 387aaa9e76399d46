/* test_hex.h: hex-string bytes and a float assertion for the decoder tests */
#pragma once

#include <math.h>
#include <stdint.h>
#include <stdio.h>

/* include after <cmocka.h> */

#define TEST_EPS 1e-9

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(got, want)                                                \
	do {                                                                  \
		double g_ = (got), w_ = (want);                               \
		if (fabs(g_ - w_) > TEST_EPS)                                 \
			fail_msg("%s = %.12g, expected %.12g", #got, g_, w_); \
	} while (0)

/* "41 0C 0D 42" -> bytes (spaces optional); fails the test on bad hex */
static inline size_t from_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		assert_true(n < max);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}
