/* Shared by the refine kernels' C files (_kernels.c, _band.c, _cg.c, _pool.c): includes, the
 * export macro, the interface version, the parallel loop. */
#ifndef ALPHACUT_KERNELS_H
#define ALPHACUT_KERNELS_H
#define AC_ABI_VERSION 5  /* kernels.ABI_VERSION: raise both when a signature changes */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <stdatomic.h>
#if defined(_WIN32)
#define AC_THREADS 0
#include <windows.h>
#define sched_yield() SwitchToThread()
#else
#define AC_THREADS 1
#include <pthread.h>
#include <sched.h>
#endif
#define AC_MAX_THREADS 16

#if defined(_WIN32)
#define AC_EXPORT __declspec(dllexport)
#else
#define AC_EXPORT __attribute__((visibility("default")))
#endif

/* A task of ac_parallel: task `index` of the loop, given the loop's context; 0, or -1 when out
 * of memory. */
typedef int (*ac_task_fn)(void *ctx, int index);

/* fn(ctx, i) for i = 0..count-1 on up to `threads` threads (the caller's among them; one
 * where threads are not available). Returns 0, or -1 if a task failed (the rest are then
 * skipped). */
int ac_parallel(ac_task_fn fn, void *ctx, int count, int threads);

#endif
