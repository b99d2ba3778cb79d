/* A parallel loop over independent tasks (the refine kernels' tiles): `threads` threads, the
 * calling one among them, each taking the next task index from a shared counter until none
 * is left, so a slow tile does not hold up a fixed share. Tasks must write disjoint memory. */
#include "_kernels.h"

typedef struct {
    ac_task_fn fn;
    void *ctx;
    int count;
    atomic_int next, failed;
} pool_t;

static void *pool_run(void *arg) {
    pool_t *pool = arg;
    for (;;) {
        const int index = atomic_fetch_add(&pool->next, 1);
        if (index >= pool->count || atomic_load(&pool->failed)) {
            return NULL;
        }
        if (pool->fn(pool->ctx, index) != 0) {
            atomic_store(&pool->failed, 1);
        }
    }
}

int ac_parallel(ac_task_fn fn, void *ctx, int count, int threads) {
    pool_t pool = {fn, ctx, count};
    atomic_init(&pool.next, 0);
    atomic_init(&pool.failed, 0);
    int team = 1;
#if AC_THREADS
    pthread_t handles[AC_MAX_THREADS];
    const int wanted = threads < count ? threads : count;
    for (int t = 1; t < wanted && t < AC_MAX_THREADS; t++, team++) {
        if (pthread_create(&handles[t], NULL, pool_run, &pool) != 0) {
            break;  /* fewer threads to be had: those that started share the tasks */
        }
    }
#else
    (void)threads;
#endif
    pool_run(&pool);
#if AC_THREADS
    for (int t = 1; t < team; t++) {
        pthread_join(handles[t], NULL);
    }
#endif
    return atomic_load(&pool.failed) ? -1 : 0;
}
