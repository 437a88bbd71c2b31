/* pool.c: see pool.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "pool.h"

/* One participant's share of the current job: the chunks [front, back) not
 * yet claimed, packed in one word (front in the low 32 bits) so that a claim
 * is one atomic add that also tells whether it succeeded. The owner claims
 * from the front, a thief from the back: the owner keeps streaming its run
 * of rows in order and the two meet once. Padded to its own cache line, so
 * claims do not move a shared line between cores until someone steals. */
typedef struct share {
    atomic_uint_least64_t range;
    char pad[64 - sizeof(atomic_uint_least64_t)];
} share;

#define FRONT(r) ((int32_t)(uint32_t)(r))
#define BACK(r) ((int32_t)(uint32_t)((r) >> 32))

/* Each thread's start argument: its worker index and the pool. */
typedef struct thread_arg {
    int32_t worker;
    struct sw_pool *pool;
} thread_arg;

struct sw_pool {
    int32_t n;            /* participants, caller included */
    int32_t spin_us;      /* how long to poll before sleeping, microseconds */
    pthread_t *threads;   /* n - 1 */
    thread_arg *args;     /* n - 1 start arguments */
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* a new job or stop */
    pthread_cond_t done;  /* the last busy thread finished */
    int32_t stop;         /* under mu */

    /* the current job: written by the caller before gen is bumped */
    sw_pool_fn fn;
    void *ctx;
    int32_t n_items, grain;
    share *shares;        /* n: participant i starts on shares[i] */
    atomic_uint gen;      /* job generation */
    atomic_int busy;      /* pool threads still in the current job */
    /* Who may be asleep, so wake-ups (a futex syscall natively, a costly
     * Atomics.notify path in Emscripten: 17% of the caller's time in a
     * profile) are only paid when someone sleeps. Set under mu before the
     * sleeper re-checks its condition; read by the waker after it changed the
     * condition (both sequentially consistent), so no wake-up is lost. */
    atomic_int sleepers;  /* pool threads waiting on `wake` */
    atomic_int caller_waiting; /* the caller waits on `done` */
};

static void run_chunk(sw_pool *p, int32_t c, int32_t worker) {
    int32_t b = c * p->grain, e = b + p->grain;
    p->fn(p->ctx, b, e < p->n_items ? e : p->n_items, worker);
}

/* Runs the chunks left in shares[owner] from the front, or from the back
 * when stealing; returns when none are left. A claim that fails leaves
 * front > back, so every later claim fails too. */
static void drain(sw_pool *p, int32_t owner, int32_t worker) {
    share *sh = &p->shares[owner];
    if (owner == worker) {
        for (;;) {
            uint64_t r = atomic_fetch_add_explicit(&sh->range, 1, memory_order_relaxed);
            if (FRONT(r) >= BACK(r)) return;
            run_chunk(p, FRONT(r), worker);
        }
    }
    for (;;) {
        uint64_t r = atomic_fetch_sub_explicit(&sh->range, (uint64_t)1 << 32, memory_order_relaxed);
        if (FRONT(r) >= BACK(r)) return;
        run_chunk(p, BACK(r) - 1, worker);
    }
}

/* The worker's own share first, then whatever is left in the others'. */
static void do_chunks(sw_pool *p, int32_t worker) {
    for (int32_t i = 0; i < p->n; i++) drain(p, (worker + i) % p->n, worker);
}

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
static int64_t now_us(void) { return (int64_t)(emscripten_get_now() * 1000.0); }
#else
static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
#endif

/* Polls until *v != unless (returns 1) or spin_us have passed (returns 0).
 * The clock is read every 256 polls: a poll is a plain atomic load. */
static int poll_change(const atomic_uint *v, unsigned unless, int32_t spin_us) {
    if (spin_us <= 0) return 0;
    int64_t end = now_us() + spin_us;
    for (;;) {
        for (int i = 0; i < 256; i++)
            if (atomic_load_explicit(v, memory_order_acquire) != unless) return 1;
        if (now_us() >= end) return 0;
    }
}

static int poll_zero(const atomic_int *v, int32_t spin_us) {
    if (spin_us <= 0) return 0;
    int64_t end = now_us() + spin_us;
    for (;;) {
        for (int i = 0; i < 256; i++)
            if (atomic_load_explicit(v, memory_order_acquire) == 0) return 1;
        if (now_us() >= end) return 0;
    }
}

/* Waits until gen differs from seen (or stop); returns the new generation. */
static unsigned wait_job(sw_pool *p, unsigned seen, int32_t *stop) {
    if (poll_change(&p->gen, seen, p->spin_us)) return atomic_load_explicit(&p->gen, memory_order_acquire);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&p->gen)) == seen && !p->stop) pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    *stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *thread_main(void *arg) {
    const thread_arg *a = arg;
    sw_pool *p = a->pool;
    int32_t worker = a->worker;
    unsigned seen = 0;
    for (;;) {
        int32_t stop = 0;
        seen = wait_job(p, seen, &stop);
        if (stop) return NULL;
        do_chunks(p, worker);
        if (atomic_fetch_sub(&p->busy, 1) == 1 && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

smolweb_status sw_pool_create(int32_t n_threads, int32_t spin_us, sw_pool **out, sw_error *err) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    sw_pool *p = calloc(1, sizeof *p);
    share *shares = aligned_alloc(64, sizeof(share) * (size_t)n_threads);
    thread_arg *args = n_threads > 1 ? calloc((size_t)n_threads - 1, sizeof *args) : NULL;
    pthread_t *threads = n_threads > 1 ? calloc((size_t)n_threads - 1, sizeof *threads) : NULL;
    if (!p || !shares || (n_threads > 1 && (!args || !threads))) {
        free(p), free(shares), free(args), free(threads);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "thread pool of %d threads: out of memory", n_threads);
    }
    p->n = 1;
    p->spin_us = spin_us > 0 ? spin_us : 0;
    p->threads = threads;
    p->args = args;
    p->shares = shares;
    for (int32_t i = 0; i < n_threads; i++) atomic_init(&shares[i].range, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_waiting, 0);
    for (int32_t i = 0; i < n_threads - 1; i++) {
        args[i].worker = i + 1;
        args[i].pool = p;
        /* a failure (no thread support, no free worker) leaves fewer threads */
        if (pthread_create(&threads[i], NULL, thread_main, &args[i]) != 0) break;
        p->n++;
    }
    *out = p;
    return SMOLWEB_OK;
}

void sw_pool_free(sw_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int32_t i = 0; i < p->n - 1; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->shares);
    free(p->args);
    free(p);
}

int32_t sw_pool_threads(const sw_pool *p) { return p ? p->n : 1; }

void sw_pool_run(sw_pool *p, sw_pool_fn fn, void *ctx, int32_t n_items, int32_t grain) {
    if (n_items <= 0) return;
    if (grain < 1) grain = 1;
    int32_t n_chunks = (int32_t)(((int64_t)n_items + grain - 1) / grain);
    if (!p || p->n == 1 || n_chunks == 1) {
        fn(ctx, 0, n_items, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_items = n_items;
    p->grain = grain;
    /* contiguous, even shares: each thread streams its own run of rows */
    for (int32_t i = 0; i < p->n; i++) {
        uint64_t front = (uint64_t)((int64_t)n_chunks * i / p->n), back = (uint64_t)((int64_t)n_chunks * (i + 1) / p->n);
        atomic_store_explicit(&p->shares[i].range, front | back << 32, memory_order_relaxed);
    }
    atomic_store_explicit(&p->busy, p->n - 1, memory_order_relaxed);
    /* publish the job: threads that poll see gen change; sleepers get woken */
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    do_chunks(p, 0);
    if (poll_zero(&p->busy, p->spin_us)) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_waiting, 1);
    while (atomic_load(&p->busy) != 0) pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->caller_waiting, 0);
    pthread_mutex_unlock(&p->mu);
}
