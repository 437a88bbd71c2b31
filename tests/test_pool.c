/* test_pool.c: the thread pool hands out every item exactly once, for any
 * thread count, grain and spin budget, over many back-to-back jobs (the
 * pattern of one token's matrix products), and frees cleanly. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "pool.h"

typedef struct job {
    atomic_int *hits;
    atomic_int workers_seen[8];
    int32_t n_threads;
    atomic_int bad_worker;
} job;

static void count(void *ctx, int32_t b, int32_t e, int32_t worker) {
    job *j = ctx;
    if (worker < 0 || worker >= j->n_threads) atomic_fetch_add(&j->bad_worker, 1);
    else atomic_fetch_add(&j->workers_seen[worker], 1);
    for (int32_t i = b; i < e; i++) atomic_fetch_add(&j->hits[i], 1);
}

static void run_case(int32_t threads, int32_t spin) {
    sw_pool *p = NULL;
    sw_error err;
    sw_error_clear(&err);
    CHECK(sw_pool_create(threads, spin, &p, &err) == SMOLWEB_OK && p, "create %d: %s", threads, err.msg);
    if (!p) return;
    CHECK(sw_pool_threads(p) == threads, "%d threads asked, %d running", threads, sw_pool_threads(p));
    enum { MAX_ITEMS = 5000 };
    job j;
    memset(&j, 0, sizeof j);
    j.n_threads = threads;
    j.hits = calloc(MAX_ITEMS, sizeof *j.hits);
    int bad = 0;
    for (int rep = 0; rep < 3000 && !bad; rep++) {
        int32_t n = 1 + (rep * 7919) % MAX_ITEMS, grain = 1 + rep % 37;
        for (int32_t i = 0; i < n; i++) atomic_store(&j.hits[i], 0);
        sw_pool_run(p, count, &j, n, grain);
        for (int32_t i = 0; i < n; i++)
            if (atomic_load(&j.hits[i]) != 1) {
                CHECK(0, "threads %d spin %d job %d (n %d grain %d): item %d done %d times", threads, spin, rep, n,
                      grain, i, atomic_load(&j.hits[i]));
                bad = 1;
                break;
            }
    }
    CHECK(atomic_load(&j.bad_worker) == 0, "worker index out of range");
    sw_pool_run(p, count, &j, 0, 4); /* no items: returns at once */
    int used = 0;
    for (int32_t w = 0; w < threads; w++) used += atomic_load(&j.workers_seen[w]) > 0;
    printf("threads %d spin %3d us: %d of %d workers took chunks\n", threads, spin, used, threads);
    free(j.hits);
    sw_pool_free(p);
}

/* Worker 1 is slow (a descheduled thread): the caller, done with its own
 * run of chunks, must take what is left of worker 1's from the back. */
typedef struct slow_job {
    atomic_int *hits;
    atomic_int done_by[2];
} slow_job;

static void slow_count(void *ctx, int32_t b, int32_t e, int32_t worker) {
    slow_job *j = ctx;
    if (worker == 1) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&j->done_by[worker], e - b);
    for (int32_t i = b; i < e; i++) atomic_fetch_add(&j->hits[i], 1);
}

static void test_stealing(void) {
    sw_pool *p = NULL;
    sw_error err;
    sw_error_clear(&err);
    if (sw_pool_create(2, 0, &p, &err) != SMOLWEB_OK || sw_pool_threads(p) != 2) {
        CHECK(0, "a pool of 2 threads: %s", err.msg);
        sw_pool_free(p);
        return;
    }
    enum { N = 400 };
    slow_job j;
    memset(&j, 0, sizeof j);
    j.hits = calloc(N, sizeof *j.hits);
    sw_pool_run(p, slow_count, &j, N, 10); /* 40 chunks, 20 in each run */
    for (int32_t i = 0; i < N; i++) CHECK(atomic_load(&j.hits[i]) == 1, "stealing: item %d done %d times", i, atomic_load(&j.hits[i]));
    int by0 = atomic_load(&j.done_by[0]), by1 = atomic_load(&j.done_by[1]);
    /* worker 1 sleeps 2 ms per chunk: in the time of its first few chunks the
     * caller has done its own 20 and stolen most of worker 1's */
    CHECK(by0 + by1 == N && by0 >= N - 5 * 10, "stealing: caller did %d items, slow worker %d", by0, by1);
    printf("stealing: caller did %d of %d items, the slow worker %d\n", by0, N, by1);
    free(j.hits);
    sw_pool_free(p);
}

int main(void) {
    sw_pool_free(NULL);
    CHECK(sw_pool_threads(NULL) == 1, "NULL pool counts one thread");
    /* a NULL pool runs the job on the caller */
    job j;
    memset(&j, 0, sizeof j);
    j.n_threads = 1;
    j.hits = calloc(10, sizeof *j.hits);
    sw_pool_run(NULL, count, &j, 10, 3);
    for (int i = 0; i < 10; i++) CHECK(atomic_load(&j.hits[i]) == 1, "NULL pool item %d", i);
    free(j.hits);
    for (int32_t t = 1; t <= 4; t++) {
        run_case(t, 0);
        run_case(t, 300);
    }
    test_stealing();
    if (failures) {
        fprintf(stderr, "test_pool: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_pool: ok\n");
    return 0;
}
