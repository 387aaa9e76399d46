/* rng.h: the simulator's own PRNG (splitmix64), so a seed gives the same bytes
 */
#pragma once

#include <math.h>
#include <stdint.h>

/*
 * splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state, passes
 * BigCrush, and is identical on every libc, unlike rand().
 */
struct rng {
	uint64_t s;
};

static inline void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	r->s = seed ^ (stream * 0xD1B54A32D192ED03ULL);
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* [0, 1) with 53 bits */
static inline double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

static inline int rng_chance(struct rng *r, double p)
{
	return rng_uniform(r) < p;
}

/* Approximately N(0, 1): Irwin-Hall of four, cheap and bounded (|x| < 3.5) */
static inline double rng_gauss(struct rng *r)
{
	double s = rng_uniform(r) + rng_uniform(r) + rng_uniform(r) +
		   rng_uniform(r);

	return (s - 2.0) * 1.7320508075688772;
}
