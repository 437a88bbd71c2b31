/* pool.h: a small thread pool for the forward pass.
 *
 * sw_pool_run splits n items into chunks of `grain` items and gives each
 * participant (the calling thread and the pool's threads) an even,
 * contiguous run of chunks. A participant claims its own chunks in order
 * from the front of its run, then steals what is left of the others' runs
 * from their back ends, so a descheduled thread delays the job by one chunk
 * at most, never by a fixed share of the work. The call returns when every
 * chunk is done. Contiguous runs matter: with one shared counter handing
 * out 32-row chunks alternately to two threads, decode ran at 80-83 tokens/s
 * against 125-130 with runs (SmolLM2-135M q4, Node 20, 2 threads,
 * bench/profile.mjs, interleaved runs): the claims moved one cache line
 * between the cores at every chunk and each thread's weight stream had gaps.
 *
 * Between jobs the pool's threads wait on a condition variable (a futex
 * natively, Atomics.wait under Emscripten's pthreads). Before sleeping they
 * poll the job counter for a bounded time (spin_us, set at creation; 0 =
 * sleep at once), because within one token jobs follow each other
 * microseconds apart and a wake-up costs more than that (measured in wasm:
 * 30-50 us per job when the helper sleeps, under 4 us when it polls); after
 * the spin time they sleep, so an idle model uses no CPU. The poll is a
 * plain atomic load with no x86 PAUSE: in a virtual machine PAUSE loops can
 * make the hypervisor deschedule the vCPU (pause-loop exiting).
 *
 * Without thread support (a wasm build without -pthread) thread creation
 * fails and the pool runs every job on the calling thread. */
#ifndef SW_POOL_H
#define SW_POOL_H

#include <stdint.h>

#include "error.h"

/* Work on items [begin, end); worker is 0 for the calling thread and 1..n-1
 * for the pool's threads (an index into per-thread scratch). */
typedef void (*sw_pool_fn)(void *ctx, int32_t begin, int32_t end, int32_t worker);

typedef struct sw_pool sw_pool;

/* Creates a pool of n_threads participants (the caller plus n_threads - 1
 * threads). If fewer threads can be started, the pool uses those it got
 * (sw_pool_threads says how many); only an allocation failure is an error. */
smolweb_status sw_pool_create(int32_t n_threads, int32_t spin_us, sw_pool **out, sw_error *err);
/* Stops and joins the threads; NULL is a no-op. */
void sw_pool_free(sw_pool *p);
/* Participants, including the caller (>= 1). */
int32_t sw_pool_threads(const sw_pool *p);
/* Runs fn over [0, n_items) in chunks of grain items; returns when all are done.
 * Not reentrant: one job at a time, from one thread. */
void sw_pool_run(sw_pool *p, sw_pool_fn fn, void *ctx, int32_t n_items, int32_t grain);

#endif
