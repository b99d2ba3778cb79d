#include "_kernels.h"

/* ---- Conjugate gradients on the band's CSR matrix (25 entries a row), on `threads` threads.
 *
 * laplacian.pcg's steps, with the vector updates fused into the passes that need them and
 * each thread on its own block of rows. The dot products are summed in float64 over fixed
 * chunks of CG_CHUNK rows, the chunks then added in order, so the answer does not depend on
 * the number of threads. The threads meet at a spinning barrier (a step is ~0.5 ms; a
 * sleeping wait costs tens of microseconds), which yields the core after a while. */
#define CG_CHUNK 4096

typedef struct {
    const int32_t *cols;
    const float *vals;
    const float *b, *inv;
    float *x, *r, *z, *p, *ap;
    int32_t *runs;  /* [n][5]: each row's 5 runs' first columns, or runs[5 i] = -1 */
    ptrdiff_t n, chunks;
    double *sums;  /* [3][chunks]: p.Ap, r.r, r.z of each chunk */
    int iters, threads, steps;
    double tol;
    atomic_int arrived, sense, go;
} cg_t;

typedef struct {
    cg_t *cg;
    int index;
} cg_worker_t;

static void cg_barrier(cg_t *cg, int *local) {
    *local = !*local;
    if (atomic_fetch_add(&cg->arrived, 1) == cg->threads - 1) {
        atomic_store(&cg->arrived, 0);
        atomic_store(&cg->sense, *local);
        return;
    }
    for (long spins = 0; atomic_load(&cg->sense) != *local; spins++) {
        if (spins > 2000) {
            sched_yield();
        }
    }
}

static double cg_total(const cg_t *cg, int which) {
    double total = 0.0;
    for (ptrdiff_t c = 0; c < cg->chunks; c++) {
        total += cg->sums[which * cg->chunks + c];
    }
    return total;
}

/* Row i of A x (its 25 entries summed in order, as csr_matvec sums a row). A row's entries
 * are its pixel's 5 x 5 neighbours, row by row: where each neighbour row's five entries sit
 * at five consecutive columns (cg_runs), x is read as five runs, not through the 25 column
 * indices, a third less memory traffic a product. The same products are summed in the same
 * order (an entry of value 0, a neighbour outside the band, adds 0 either way): the same
 * bits. */
static inline float row_product(const cg_t *cg, ptrdiff_t i, const float *x) {
    const float *v = cg->vals + i * 25;
    const int32_t *run = cg->runs + i * 5;
    float sum = 0.0f;
    if (run[0] < 0) {
        const int32_t *k = cg->cols + i * 25;
        for (int e = 0; e < 25; e++) {
            sum += v[e] * x[k[e]];
        }
        return sum;
    }
    for (int g = 0; g < 5; g++, v += 5) {
        const float *at = x + run[g];
        for (int d = 0; d < 5; d++) {
            sum += v[d] * at[d];
        }
    }
    return sum;
}

/* Row i's runs (see row_product): for each group of five entries, the column c such that
 * every non-zero entry d of the group is at column c + d, with c..c+4 within 0..n-1; or
 * runs[0] = -1 when a group has none (the row is then read through its column indices). */
static void cg_runs(cg_t *cg, ptrdiff_t i) {
    const float *v = cg->vals + i * 25;
    const int32_t *k = cg->cols + i * 25;
    int32_t *run = cg->runs + i * 5;
    for (int g = 0; g < 5; g++) {
        ptrdiff_t start = 0;  /* all zeros: any run in range adds nothing */
        int regular = 1, found = 0;
        for (int d = 0; d < 5; d++) {
            if (v[5 * g + d] != 0.0f) {
                if (!found) {
                    start = (ptrdiff_t)k[5 * g + d] - d;
                    found = 1;
                }
                regular &= k[5 * g + d] == start + d;
            }
        }
        if (!regular || start < 0 || start + 4 >= cg->n) {
            run[0] = -1;
            return;
        }
        run[g] = (int32_t)start;
    }
}

/* The rows of chunk c: [lo, hi). */
static inline void chunk_rows(const cg_t *cg, ptrdiff_t c, ptrdiff_t *lo, ptrdiff_t *hi) {
    *lo = c * CG_CHUNK;
    *hi = *lo + CG_CHUNK < cg->n ? *lo + CG_CHUNK : cg->n;
}

/* The rows of chunks [c0, c1): their runs, then r = b - A x, z = r / d, p = z; sums r.z
 * (slot 2) and b.b (slot 1, the start's only use of it). */
static void cg_start(cg_t *cg, ptrdiff_t c0, ptrdiff_t c1) {
    for (ptrdiff_t c = c0; c < c1; c++) {
        ptrdiff_t lo, hi;
        chunk_rows(cg, c, &lo, &hi);
        double rz = 0.0, bb = 0.0;
        for (ptrdiff_t i = lo; i < hi; i++) {
            cg_runs(cg, i);
        }
        for (ptrdiff_t i = lo; i < hi; i++) {
            const float r = cg->b[i] - row_product(cg, i, cg->x);
            const float z = r * cg->inv[i];
            cg->r[i] = r;
            cg->z[i] = z;
            cg->p[i] = z;
            rz += (double)r * z;
            bb += (double)cg->b[i] * cg->b[i];
        }
        cg->sums[cg->chunks + c] = bb;
        cg->sums[2 * cg->chunks + c] = rz;
    }
}

/* Chunks [c0, c1) of ap = A p, and their sums p.Ap (slot 0). */
static void cg_product(cg_t *cg, ptrdiff_t c0, ptrdiff_t c1) {
    for (ptrdiff_t c = c0; c < c1; c++) {
        ptrdiff_t lo, hi;
        chunk_rows(cg, c, &lo, &hi);
        double pap = 0.0;
        for (ptrdiff_t i = lo; i < hi; i++) {
            const float sum = row_product(cg, i, cg->p);
            cg->ap[i] = sum;
            pap += (double)cg->p[i] * sum;
        }
        cg->sums[c] = pap;
    }
}

/* Chunks [c0, c1) of x += alpha p, r -= alpha Ap, z = r / d, and their sums r.r (slot 1)
 * and r.z (slot 2). */
static void cg_update(cg_t *cg, ptrdiff_t c0, ptrdiff_t c1, float alpha) {
    for (ptrdiff_t c = c0; c < c1; c++) {
        ptrdiff_t lo, hi;
        chunk_rows(cg, c, &lo, &hi);
        double rr = 0.0, rz = 0.0;
        for (ptrdiff_t i = lo; i < hi; i++) {
            cg->x[i] += cg->p[i] * alpha;
            const float r = cg->r[i] - cg->ap[i] * alpha;
            const float z = r * cg->inv[i];
            cg->r[i] = r;
            cg->z[i] = z;
            rr += (double)r * r;
            rz += (double)r * z;
        }
        cg->sums[cg->chunks + c] = rr;
        cg->sums[2 * cg->chunks + c] = rz;
    }
}

static void *cg_run(void *arg) {
    cg_worker_t *me = arg;
    cg_t *cg = me->cg;
    for (long spins = 0; !atomic_load(&cg->go); spins++) {  /* until the team is known */
        if (spins > 2000) {
            sched_yield();
        }
    }
    const ptrdiff_t per = (cg->chunks + cg->threads - 1) / cg->threads;
    const ptrdiff_t c0 = me->index * per < cg->chunks ? me->index * per : cg->chunks;
    const ptrdiff_t c1 = c0 + per < cg->chunks ? c0 + per : cg->chunks;
    const ptrdiff_t lo = c0 * CG_CHUNK, hi = c1 * CG_CHUNK < cg->n ? c1 * CG_CHUNK : cg->n;
    int local = 0, steps = 0;
    cg_start(cg, c0, c1);
    cg_barrier(cg, &local);
    double rz = cg_total(cg, 2), bb = cg_total(cg, 1);
    const double stop = cg->tol * (bb > 0.0 ? sqrt(bb) : 1.0);
    for (int step = 1; step <= cg->iters; step++) {
        cg_product(cg, c0, c1);
        cg_barrier(cg, &local);
        const double curvature = cg_total(cg, 0);
        if (!(curvature > 0.0)) {  /* p = 0: the start already solves it */
            steps = step - 1;
            break;
        }
        cg_update(cg, c0, c1, (float)(rz / curvature));
        cg_barrier(cg, &local);
        steps = step;
        if (sqrt(cg_total(cg, 1)) < stop) {
            break;
        }
        const double rz_next = cg_total(cg, 2);
        const float beta = (float)(rz_next / rz);
        rz = rz_next;
        for (ptrdiff_t i = lo; i < hi; i++) {
            cg->p[i] = cg->p[i] * beta + cg->z[i];
        }
        cg_barrier(cg, &local);  /* p is whole again before the next product */
    }
    if (me->index == 0) {
        cg->steps = steps;
    }
    return NULL;
}

/* Jacobi-preconditioned CG on A x = b (A: n rows of 25 CSR entries, cols/vals), from x
 * (updated in place), at most `iters` steps, to the relative residual `tol`, on `threads`
 * threads (1 where threads are not available). Returns the steps taken, or -1 when out of
 * memory. */
AC_EXPORT int ac_pcg(const int32_t *cols, const float *vals, ptrdiff_t n, const float *b,
                     float *x, const float *inv_diag, int iters, double tol, int threads) {
    cg_t cg = {0};
    cg.cols = cols;
    cg.vals = vals;
    cg.b = b;
    cg.inv = inv_diag;
    cg.x = x;
    cg.n = n;
    cg.chunks = (n + CG_CHUNK - 1) / CG_CHUNK;
    cg.iters = iters;
    cg.tol = tol;
#if AC_THREADS
    cg.threads = threads < 1 ? 1 : (threads > cg.chunks ? (int)cg.chunks : threads);
#else
    cg.threads = 1;
#endif
    if (cg.threads < 1) {
        cg.threads = 1;
    }
    float *work = malloc(sizeof(float) * 4 * (size_t)(n > 0 ? n : 1));
    cg.runs = malloc(sizeof(int32_t) * 5 * (size_t)(n > 0 ? n : 1));
    cg.sums = malloc(sizeof(double) * 3 * (size_t)(cg.chunks > 0 ? cg.chunks : 1));
    if (work == NULL || cg.sums == NULL || cg.runs == NULL) {
        free(work);
        free(cg.sums);
        free(cg.runs);
        return -1;
    }
    cg.r = work;
    cg.z = work + n;
    cg.p = work + 2 * n;
    cg.ap = work + 3 * n;
    atomic_init(&cg.arrived, 0);
    atomic_init(&cg.sense, 0);
    atomic_init(&cg.go, 0);
    cg_worker_t workers[AC_MAX_THREADS];
    const int wanted = cg.threads < AC_MAX_THREADS ? cg.threads : AC_MAX_THREADS;
    int team = 1;
#if AC_THREADS
    pthread_t handles[AC_MAX_THREADS];
    for (int t = 1; t < wanted; t++, team++) {
        workers[t].cg = &cg;
        workers[t].index = t;
        if (pthread_create(&handles[t], NULL, cg_run, &workers[t]) != 0) {
            break;  /* fewer threads to be had: the team is those that started */
        }
    }
#endif
    (void)wanted;
    cg.threads = team;
    atomic_store(&cg.go, 1);
    workers[0].cg = &cg;
    workers[0].index = 0;
    cg_run(&workers[0]);
#if AC_THREADS
    for (int t = 1; t < team; t++) {
        pthread_join(handles[t], NULL);
    }
#endif
    free(work);
    free(cg.sums);
    free(cg.runs);
    return cg.steps;
}

