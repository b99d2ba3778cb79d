/* Shared by the refine kernels' C files (_kernels.c, _band.c, _cg.c): includes, the export
 * macro, the interface version. */
#ifndef ALPHACUT_KERNELS_H
#define ALPHACUT_KERNELS_H
#define AC_ABI_VERSION 3  /* kernels.ABI_VERSION: raise both when a signature changes */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
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
#define CG_MAX_THREADS 16

#if defined(_WIN32)
#define AC_EXPORT __declspec(dllexport)
#else
#define AC_EXPORT __attribute__((visibility("default")))
#endif

#endif
