/* The refine step's full-resolution per-pixel passes, fused: one pass over a tile instead of
 * a dozen numpy/OpenCV passes, each of which streams the tile through memory again.
 *
 * Called through ctypes (kernels.py), which releases the GIL, so tiles run on both cores.
 * Every routine reproduces the numpy path's float32 arithmetic in the same order (no fused
 * multiply-add: built with -ffp-contract=off), so the two agree to the last bit or, where
 * OpenCV's own resize rounds differently, to a float32 rounding.
 *
 * Bilinear sampling is given as taps per output row and column (tiles.py's AxisTaps:
 * two source indices and two float32 weights each), horizontal pass first, as OpenCV's
 * INTER_LINEAR resize does.
 *
 * The module is also a (empty) Python extension so that setuptools builds and names it as
 * one on every platform; kernels.py loads the same file with ctypes.
 */
#define PY_SSIZE_T_CLEAN
#define AC_ABI_VERSION 3  /* kernels.ABI_VERSION: raise both when a signature changes */
#include <Python.h>
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

/* v clipped to 0..top, written so that it compiles to SIMD max/min (fminf would not). */
static inline float clip(float v, float top) {
    v = v > 0.0f ? v : 0.0f;
    return v < top ? v : top;
}

/* The horizontal pass of `planes` planes (each `plane` floats apart, rows `stride` apart)
 * over source rows lo..lo+nrows-1, for the `tw` output columns: buf[(p * nrows + r) * tw + j]
 * = S[x0] * w0 + S[x1] * w1, as OpenCV's HResizeLinear. */
static void horizontal(const float *src, ptrdiff_t plane, ptrdiff_t stride, int planes,
                       int lo, int nrows, const int32_t *cx0, const int32_t *cx1,
                       const float *cw0, const float *cw1, int tw, float *buf) {
    for (int p = 0; p < planes; p++) {
        for (int r = 0; r < nrows; r++) {
            const float *row = src + p * plane + (ptrdiff_t)(lo + r) * stride;
            float *dst = buf + ((ptrdiff_t)p * nrows + r) * tw;
            for (int j = 0; j < tw; j++) {
                float v = row[cx0[j]] * cw0[j];
                v += row[cx1[j]] * cw1[j];
                dst[j] = v;
            }
        }
    }
}

/* The vertical pass for one output row: out[j] = A[j] * w0 + B[j] * w1 (VResizeLinear). */
static inline void vertical(const float *restrict a, const float *restrict b, float w0,
                            float w1, int tw, float *restrict out) {
    for (int j = 0; j < tw; j++) {
        float v = a[j] * w0;
        v += b[j] * w1;
        out[j] = v;
    }
}

/* Guided upsampling applied to one tile: alpha = clip(a * gray / 255 + b, 0, 1).
 * coef: float32 planes a and b (rows `stride` floats apart, plane b `plane` floats after a);
 * the taps index those planes for the tile's `th` rows and `tw` columns. gray: the tile's
 * uint8 grey (OpenCV's RGB2GRAY), rows `gray_stride` bytes apart. out: float32 rows
 * (`out_stride` floats apart). band (unless NULL): uint8 rows, 255 where soft_low < alpha <
 * soft_high (foreground.py's soft band, as its cv2.inRange finds it), else 0. Returns 0, or -1 when
 * out of memory. */
AC_EXPORT int ac_upsample_tile(const float *coef, ptrdiff_t plane, ptrdiff_t stride,
                               const int32_t *ry0, const int32_t *ry1, const float *rw0,
                               const float *rw1, const int32_t *cx0, const int32_t *cx1,
                               const float *cw0, const float *cw1, int th, int tw,
                               const uint8_t *gray, ptrdiff_t gray_stride, float *out,
                               ptrdiff_t out_stride, uint8_t *band, ptrdiff_t band_stride,
                               float soft_low, float soft_high) {
    if (th <= 0 || tw <= 0) {
        return 0;
    }
    const int lo = ry0[0], nrows = ry1[th - 1] - ry0[0] + 1;
    float *buf = malloc(sizeof(float) * ((size_t)2 * nrows * tw + (size_t)2 * tw));
    if (buf == NULL) {
        return -1;
    }
    horizontal(coef, plane, stride, 2, lo, nrows, cx0, cx1, cw0, cw1, tw, buf);
    float *va = buf + (size_t)2 * nrows * tw, *vb = va + tw;
    const float scale = 1.0f / 255.0f;
    for (int i = 0; i < th; i++) {
        const int ya = ry0[i] - lo, yb = ry1[i] - lo;
        vertical(buf + (ptrdiff_t)ya * tw, buf + (ptrdiff_t)yb * tw, rw0[i], rw1[i], tw, va);
        vertical(buf + ((ptrdiff_t)nrows + ya) * tw, buf + ((ptrdiff_t)nrows + yb) * tw,
                 rw0[i], rw1[i], tw, vb);
        const uint8_t *g = gray + i * gray_stride;
        float *dst = out + i * out_stride;
        for (int j = 0; j < tw; j++) {
            float v = va[j] * ((float)g[j] * scale);
            v += vb[j];
            dst[j] = clip(v, 1.0f);
        }
        if (band != NULL) {
            uint8_t *b = band + i * band_stride;
            for (int j = 0; j < tw; j++) {
                b[j] = dst[j] > soft_low && dst[j] < soft_high ? 255 : 0;
            }
        }
    }
    free(buf);
    return 0;
}

/* Blur-fusion's last step on one tile, at its soft pixels only:
 * F = fg + a (I - bg - a (fg - bg)), clipped to 0..255 and rounded, where fg and bg are the
 * local means (float32 planes 0..2 and 3..5, `plane` floats apart, rows `stride` apart)
 * sampled bilinearly through the taps. photo/out: uint8 RGB rows; alpha: float32 rows;
 * soft: uint8 rows, non-zero where the pixel is written. Returns 0, or -1 when out of
 * memory. */
AC_EXPORT int ac_foreground_tile(const float *means, ptrdiff_t plane, ptrdiff_t stride,
                                 const int32_t *ry0, const int32_t *ry1, const float *rw0,
                                 const float *rw1, const int32_t *cx0, const int32_t *cx1,
                                 const float *cw0, const float *cw1, int th, int tw,
                                 const uint8_t *photo, ptrdiff_t photo_stride,
                                 const float *alpha, ptrdiff_t alpha_stride,
                                 const uint8_t *soft, ptrdiff_t soft_stride, uint8_t *out,
                                 ptrdiff_t out_stride) {
    if (th <= 0 || tw <= 0) {
        return 0;
    }
    const int lo = ry0[0], nrows = ry1[th - 1] - ry0[0] + 1;
    const ptrdiff_t wide = (ptrdiff_t)3 * tw;  /* a row of interleaved RGB values */
    float *buf = malloc(sizeof(float) * ((size_t)2 * nrows * wide + (size_t)3 * wide));
    uint8_t *pixels = malloc((size_t)wide);
    if (buf == NULL || pixels == NULL) {
        free(buf);
        free(pixels);
        return -1;
    }
    /* the horizontal pass, interleaved: fg rows then bg rows, [r][3 j + c] */
    for (int half = 0; half < 2; half++) {
        for (int r = 0; r < nrows; r++) {
            float *dst = buf + ((ptrdiff_t)half * nrows + r) * wide;
            for (int c = 0; c < 3; c++) {
                const float *row = means + (half * 3 + c) * plane + (ptrdiff_t)(lo + r) * stride;
                for (int j = 0; j < tw; j++) {
                    float v = row[cx0[j]] * cw0[j];
                    v += row[cx1[j]] * cw1[j];
                    dst[3 * j + c] = v;
                }
            }
        }
    }
    float *fg = buf + (size_t)2 * nrows * wide, *bg = fg + wide, *a3 = bg + wide;
    for (int i = 0; i < th; i++) {
        const int ya = ry0[i] - lo, yb = ry1[i] - lo;
        const uint8_t *src = photo + i * photo_stride;
        const float *arow = alpha + i * alpha_stride;
        const uint8_t *srow = soft + i * soft_stride;
        uint8_t *dst = out + i * out_stride;
        vertical(buf + ya * wide, buf + yb * wide, rw0[i], rw1[i], (int)wide, fg);
        vertical(buf + ((ptrdiff_t)nrows + ya) * wide, buf + ((ptrdiff_t)nrows + yb) * wide,
                 rw0[i], rw1[i], (int)wide, bg);
        for (int j = 0; j < tw; j++) {
            a3[3 * j] = a3[3 * j + 1] = a3[3 * j + 2] = arow[j];
        }
        for (ptrdiff_t k = 0; k < wide; k++) {
            const float a = a3[k];
            float v = fg[k] - bg[k];
            v *= a;
            v = (float)src[k] - v;
            v -= bg[k];
            v *= a;
            v += fg[k];
            pixels[k] = (uint8_t)(int)(clip(v, 255.0f) + 0.5f);
        }
        for (int j = 0; j < tw; j++) {
            if (srow[j]) {
                dst[3 * j] = pixels[3 * j];
                dst[3 * j + 1] = pixels[3 * j + 1];
                dst[3 * j + 2] = pixels[3 * j + 2];
            }
        }
    }
    free(pixels);
    free(buf);
    return 0;
}

/* The 9 offsets of a 3x3 window, in raster order (laplacian.py's WINDOW). */
static const int WIN_DY[9] = {-1, -1, -1, 0, 0, 0, 1, 1, 1};
static const int WIN_DX[9] = {-1, 0, 1, -1, 0, 1, -1, 0, 1};

/* Row of the 45 distinct window entries holding entry (i, j), i <= j, raster over i <= j. */
static int pair_slot(int i, int j) {
    if (i > j) {
        int t = i;
        i = j;
        j = t;
    }
    return i * 9 - i * (i - 1) / 2 + (j - i);
}

/* laplacian.pair_terms for windows m0..m1-1 of `base` (flat indices of window centres in a
 * frame `width` pixels wide): planes are float32 (3, pixels) in [0, 1]; terms is float32
 * (45, stride), entry [slot][m] = delta_ij - (1 + y_i . x_j) / 9, computed in the numpy
 * path's float32/float64 steps and order, but stored window by window: terms is float32
 * (windows, 45), entry [m][slot] (the 45 of a window share two cache lines, which the row
 * pass reads together). floor_det: the inverse's determinant floor, (eps / 9)^3 as Python
 * computes it. */
AC_EXPORT void ac_window_terms(const float *planes, ptrdiff_t pixels, const int64_t *base,
                               ptrdiff_t m0, ptrdiff_t m1, ptrdiff_t width, double eps,
                               double floor_det, float *terms) {
    const float ninth = (float)(1.0 / 9.0), minus_ninth = (float)(-1.0 / 9.0);
    for (ptrdiff_t m = m0; m < m1; m++) {
        float x[9][3], y[9][3];
        for (int c = 0; c < 3; c++) {
            const float *plane = planes + c * pixels;
            float sum = 0.0f;
            float v[9];
            for (int i = 0; i < 9; i++) {
                v[i] = plane[base[m] + WIN_DY[i] * width + WIN_DX[i]];
            }
            sum = v[0] + v[1];
            for (int i = 2; i < 9; i++) {
                sum += v[i];
            }
            const float mean = sum * ninth;
            for (int i = 0; i < 9; i++) {
                x[i][c] = v[i] - mean;
            }
        }
        static const int PA[6] = {0, 0, 0, 1, 1, 2}, PB[6] = {0, 1, 2, 1, 2, 2};
        double cov[6];
        for (int k = 0; k < 6; k++) {
            float acc = x[0][PA[k]] * x[0][PB[k]] + x[1][PA[k]] * x[1][PB[k]];
            for (int i = 2; i < 9; i++) {
                acc += x[i][PA[k]] * x[i][PB[k]];
            }
            cov[k] = (double)acc * (1.0 / 9.0);
        }
        cov[0] += eps / 9.0;
        cov[3] += eps / 9.0;
        cov[5] += eps / 9.0;
        const double c00 = cov[0], c01 = cov[1], c02 = cov[2], c11 = cov[3], c12 = cov[4],
                     c22 = cov[5];
        const double i00 = c11 * c22 - c12 * c12, i01 = c02 * c12 - c01 * c22,
                     i02 = c01 * c12 - c02 * c11, i11 = c00 * c22 - c02 * c02,
                     i12 = c02 * c01 - c00 * c12, i22 = c00 * c11 - c01 * c01;
        double det = c00 * i00 + c01 * i01;
        det += c02 * i02;
        const double inv_det = 1.0 / (det > floor_det ? det : floor_det);
        const float inv[6] = {(float)(i00 * inv_det), (float)(i01 * inv_det),
                              (float)(i02 * inv_det), (float)(i11 * inv_det),
                              (float)(i12 * inv_det), (float)(i22 * inv_det)};
        const float rows[3][3] = {{inv[0], inv[1], inv[2]},
                                  {inv[1], inv[3], inv[4]},
                                  {inv[2], inv[4], inv[5]}};
        for (int i = 0; i < 9; i++) {
            for (int a = 0; a < 3; a++) {
                float v = rows[a][0] * x[i][0];
                v += rows[a][1] * x[i][1];
                v += rows[a][2] * x[i][2];
                y[i][a] = v * minus_ninth;
            }
        }
        float *out = terms + m * 45;
        int slot = 0;
        for (int i = 0; i < 9; i++) {
            for (int j = i; j < 9; j++, slot++) {
                float g = y[i][0] * x[j][0];
                g += y[i][1] * x[j][1];
                g += y[i][2] * x[j][2];
                g -= ninth;
                if (j == i) {
                    g += 1.0f;
                }
                out[slot] = g;
            }
        }
    }
}

/* laplacian._gather_rows for rows r0..r1-1: stencil is float32 (25, n), entry [k][r] the sum
 * of the window entries of every window holding both row r's pixel and its neighbour at
 * offset k (5x5, raster), added in the numpy path's order. terms: ac_window_terms' (windows
 * + 1, 45), the last window all zeros. pixels: flat indices in the frame padded by one pixel
 * (`width` wide); window_ids: that padded frame's window of each centre, the zero window
 * where none is centred. */
AC_EXPORT void ac_gather_rows(const float *terms, const int32_t *window_ids,
                              const int64_t *pixels, ptrdiff_t r0, ptrdiff_t r1,
                              ptrdiff_t width, float *stencil, ptrdiff_t n) {
    /* For each stencil offset k, the (window position i, entry slot) pairs that add into it,
     * by increasing i: the order in which the numpy path's loop over (i, j) adds them. */
    int count[25] = {0}, pos[25][9], slot[25][9];
    for (int i = 0; i < 9; i++) {
        for (int j = 0; j < 9; j++) {
            const int k = (WIN_DY[j] - WIN_DY[i] + 2) * 5 + (WIN_DX[j] - WIN_DX[i] + 2);
            pos[k][count[k]] = i;
            slot[k][count[k]] = pair_slot(i, j);
            count[k]++;
        }
    }
    ptrdiff_t step[9];
    for (int i = 0; i < 9; i++) {
        step[i] = WIN_DY[i] * width + WIN_DX[i];
    }
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *held[9];
        for (int i = 0; i < 9; i++) {
            held[i] = terms + 45 * (ptrdiff_t)window_ids[pixels[r] - step[i]];
        }
        for (int k = 0; k < 25; k++) {
            float acc = 0.0f;
            for (int e = 0; e < count[k]; e++) {
                acc += held[pos[k][e]][slot[k][e]];
            }
            stencil[k * n + r] = acc;
        }
    }
}

/* laplacian.band_system's rows, bit for bit: for the n band pixels of `unknown` (uint8 h x w,
 * rows `ustride` apart) in raster order, with `stencil` float32 (25, n) from the gather:
 * cols int32 (n, 25), vals float32 (n, 25) of the CSR matrix (a neighbour outside the band
 * becomes a zero on the row's own column; the diagonal gets + lam). The rows with a
 * neighbour outside the band (the band's rim) are listed in `rim` (int64, up to n), and for
 * each, row i of `outside` float32 (n, 25) holds its stencil entries towards those neighbours
 * (else 0) and row i of `fixed` their known alpha (`known` float32, rows `kstride` apart; 0
 * past the frame): the right-hand side's known part is their row sums. Only the rim's rows
 * are written. Returns the rim's length, or -1 when out of memory. */
AC_EXPORT ptrdiff_t ac_band_rows(const float *stencil, ptrdiff_t n, const uint8_t *unknown,
                           ptrdiff_t ustride, const float *known, ptrdiff_t kstride, int h,
                           int w, float lam, int32_t *cols, float *vals, int64_t *rim,
                           float *outside, float *fixed) {
    int32_t *ids = malloc(sizeof(int32_t) * ((size_t)h * (size_t)w + 2 * (size_t)n));
    if (ids == NULL) {
        return -1;
    }
    int32_t *ys = ids + (size_t)h * (size_t)w, *xs = ys + n;
    int32_t next = 0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            if (unknown[y * ustride + x] && next < n) {
                ys[next] = y;
                xs[next] = x;
                ids[(ptrdiff_t)y * w + x] = next++;
            } else {
                ids[(ptrdiff_t)y * w + x] = -1;
            }
        }
    }
    ptrdiff_t rims = 0;
    for (ptrdiff_t r = 0; r < next; r++) {
        float *out_row = NULL, *fixed_row = NULL;
        for (int k = 0; k < 25; k++) {
            const int yy = ys[r] + k / 5 - 2, xx = xs[r] + k % 5 - 2;
            const int inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
            const int32_t col = inside ? ids[(ptrdiff_t)yy * w + xx] : -1;
            const float entry = stencil[k * n + r];
            const ptrdiff_t at = r * 25 + k;
            if (col >= 0) {
                cols[at] = col;
                vals[at] = k == 12 ? entry + lam : entry;
                continue;
            }
            cols[at] = (int32_t)r;
            vals[at] = 0.0f;
            if (out_row == NULL) {  /* the row's first neighbour outside the band */
                rim[rims] = r;
                out_row = outside + rims * 25;
                fixed_row = fixed + rims * 25;
                rims++;
                for (int e = 0; e < 25; e++) {
                    out_row[e] = 0.0f;
                    fixed_row[e] = 0.0f;
                }
            }
            out_row[k] = entry;
            fixed_row[k] = inside ? known[yy * kstride + xx] : 0.0f;
        }
    }
    free(ids);
    return rims;
}

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

/* The rows of chunks [c0, c1): r = b - A x, z = r / d, p = z; sums r.z (slot 2) and b.b
 * (slot 1, the start's only use of it). */
static void cg_start(cg_t *cg, ptrdiff_t c0, ptrdiff_t c1) {
    for (ptrdiff_t c = c0; c < c1; c++) {
        const ptrdiff_t lo = c * CG_CHUNK, hi = lo + CG_CHUNK < cg->n ? lo + CG_CHUNK : cg->n;
        double rz = 0.0, bb = 0.0;
        for (ptrdiff_t i = lo; i < hi; i++) {
            const float *v = cg->vals + i * 25;
            const int32_t *k = cg->cols + i * 25;
            float ax = 0.0f;
            for (int e = 0; e < 25; e++) {
                ax += v[e] * cg->x[k[e]];
            }
            const float r = cg->b[i] - ax;
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
        for (ptrdiff_t c = c0; c < c1; c++) {  /* Ap, and p.Ap */
            const ptrdiff_t a = c * CG_CHUNK, e_ = a + CG_CHUNK < cg->n ? a + CG_CHUNK : cg->n;
            double pap = 0.0;
            for (ptrdiff_t i = a; i < e_; i++) {
                const float *v = cg->vals + i * 25;
                const int32_t *k = cg->cols + i * 25;
                float sum = 0.0f;
                for (int e = 0; e < 25; e++) {
                    sum += v[e] * cg->p[k[e]];
                }
                cg->ap[i] = sum;
                pap += (double)cg->p[i] * sum;
            }
            cg->sums[c] = pap;
        }
        cg_barrier(cg, &local);
        const double curvature = cg_total(cg, 0);
        if (!(curvature > 0.0)) {  /* p = 0: the start already solves it */
            steps = step - 1;
            break;
        }
        const float alpha = (float)(rz / curvature);
        for (ptrdiff_t c = c0; c < c1; c++) {  /* x, r, z, and r.r, r.z */
            const ptrdiff_t a = c * CG_CHUNK, e_ = a + CG_CHUNK < cg->n ? a + CG_CHUNK : cg->n;
            double rr = 0.0, rzc = 0.0;
            for (ptrdiff_t i = a; i < e_; i++) {
                cg->x[i] += cg->p[i] * alpha;
                const float r = cg->r[i] - cg->ap[i] * alpha;
                const float z = r * cg->inv[i];
                cg->r[i] = r;
                cg->z[i] = z;
                rr += (double)r * r;
                rzc += (double)r * z;
            }
            cg->sums[cg->chunks + c] = rr;
            cg->sums[2 * cg->chunks + c] = rzc;
        }
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
    cg.sums = malloc(sizeof(double) * 3 * (size_t)(cg.chunks > 0 ? cg.chunks : 1));
    if (work == NULL || cg.sums == NULL) {
        free(work);
        free(cg.sums);
        return -1;
    }
    cg.r = work;
    cg.z = work + n;
    cg.p = work + 2 * n;
    cg.ap = work + 3 * n;
    atomic_init(&cg.arrived, 0);
    atomic_init(&cg.sense, 0);
    atomic_init(&cg.go, 0);
    cg_worker_t workers[CG_MAX_THREADS];
    const int wanted = cg.threads < CG_MAX_THREADS ? cg.threads : CG_MAX_THREADS;
    int team = 1;
#if AC_THREADS
    pthread_t handles[CG_MAX_THREADS];
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
    return cg.steps;
}

/* The interface's version: kernels.py uses a build only if it was made from this file (a stale
 * build with other signatures is ignored, not called). */
AC_EXPORT int ac_abi_version(void) { return AC_ABI_VERSION; }

static struct PyModuleDef kernels_module = {PyModuleDef_HEAD_INIT, "_kernels",
                                            "Fused refine kernels (called through ctypes).",
                                            -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }
