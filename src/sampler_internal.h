/* sampler_internal.h: what the sampler's tests (and the cross-platform
 * determinism checks) look at beyond the public API in smolweb.h. Not
 * exported to JavaScript. */
#ifndef SW_SAMPLER_INTERNAL_H
#define SW_SAMPLER_INTERNAL_H

#include <stdint.h>

#include "smolweb.h"

/* Weights are integers: e^x is represented as round(e^x * 2^SW_SAMPLER_ONE_BITS). */
#define SW_SAMPLER_ONE_BITS 40
/* Inputs of sw_sampler_exp below -SW_SAMPLER_EXP_CUT give weight 0 (e^-28.5 * 2^40 < 0.5). */
#define SW_SAMPLER_EXP_CUT 28.5
/* Largest vocabulary a sampler accepts (keeps every weight sum below 2^62). */
#define SW_SAMPLER_MAX_VOCAB (1 << 22)
/* Largest repeat_last_n accepted. */
#define SW_SAMPLER_MAX_LAST_N (1 << 20)

/* Fixed-point e^x for x <= 0: about e^x * 2^40 (relative error below 1e-8),
 * 0 for x < -28.5 or NaN, exactly 2^40 for x >= 0. Integer arithmetic only,
 * so the result is the same on every platform. */
uint64_t sw_sampler_exp(double x);

/* Writes the distribution smolweb_sampler_sample would draw from for these
 * logits into probs[n_vocab]: each candidate's weight / total weight, 0 for
 * filtered tokens (greedy: 1 for the argmax). Neither draws a random number
 * nor records a token. Returns the number of candidates (0: logits unusable). */
int32_t sw_sampler_probs(smolweb_sampler *s, const float *logits, double *probs);

/* The next raw 64-bit value of the sampler's generator (xoshiro256** seeded
 * through splitmix64); advances it exactly as one sample does. */
uint64_t sw_sampler_rng_next(smolweb_sampler *s);

#endif
