/* The band's linear system (laplacian.py): window terms, the rows' gather, the CSR rows;
 * each the numpy path's arithmetic in its order, bit for bit. */
#include "_kernels.h"

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

typedef struct {
    const float *stencil;
    ptrdiff_t n;
    const int32_t *ids, *ys, *xs;  /* the band's index map (h x w, -1 outside), its pixels */
    const float *known;
    ptrdiff_t kstride;
    int h, w, blocks;
    float lam;
    int32_t *cols;
    float *vals, *outside, *fixed;
    int64_t *rim;
    ptrdiff_t *rims;  /* each block's rim length; its rim rows are written from its first row */
} rows_t;

/* The rows [lo, hi) of block `index`: their CSR entries, and their rim rows at
 * rim/outside/fixed from row lo on (a block's rim is at most its rows). */
static int rows_task(void *ctx, int index) {
    rows_t *t = ctx;
    const ptrdiff_t per = (t->n + t->blocks - 1) / t->blocks;
    const ptrdiff_t lo = index * per < t->n ? index * per : t->n;
    const ptrdiff_t hi = lo + per < t->n ? lo + per : t->n;
    ptrdiff_t rims = lo;
    for (ptrdiff_t r = lo; r < hi; r++) {
        float *out_row = NULL, *fixed_row = NULL;
        for (int k = 0; k < 25; k++) {
            const int yy = t->ys[r] + k / 5 - 2, xx = t->xs[r] + k % 5 - 2;
            const int inside = yy >= 0 && yy < t->h && xx >= 0 && xx < t->w;
            const int32_t col = inside ? t->ids[(ptrdiff_t)yy * t->w + xx] : -1;
            const float entry = t->stencil[k * t->n + r];
            const ptrdiff_t at = r * 25 + k;
            if (col >= 0) {
                t->cols[at] = col;
                t->vals[at] = k == 12 ? entry + t->lam : entry;
                continue;
            }
            t->cols[at] = (int32_t)r;
            t->vals[at] = 0.0f;
            if (out_row == NULL) {  /* the row's first neighbour outside the band */
                t->rim[rims] = r;
                out_row = t->outside + rims * 25;
                fixed_row = t->fixed + rims * 25;
                rims++;
                for (int e = 0; e < 25; e++) {
                    out_row[e] = 0.0f;
                    fixed_row[e] = 0.0f;
                }
            }
            out_row[k] = entry;
            fixed_row[k] = inside ? t->known[yy * t->kstride + xx] : 0.0f;
        }
    }
    t->rims[index] = rims - lo;
    return 0;
}

/* The blocks' rims moved together, in row order, to the front; returns their length. */
static ptrdiff_t gather_rims(const rows_t *t) {
    const ptrdiff_t per = (t->n + t->blocks - 1) / t->blocks;
    ptrdiff_t total = 0;
    for (int b = 0; b < t->blocks; b++) {
        const ptrdiff_t lo = b * per, count = t->rims[b];
        if (count > 0 && lo != total) {
            memmove(t->rim + total, t->rim + lo, sizeof(int64_t) * (size_t)count);
            memmove(t->outside + total * 25, t->outside + lo * 25,
                    sizeof(float) * 25 * (size_t)count);
            memmove(t->fixed + total * 25, t->fixed + lo * 25, sizeof(float) * 25 * (size_t)count);
        }
        total += count;
    }
    return total;
}

/* laplacian.band_system's rows, bit for bit: for the n band pixels of `unknown` (uint8 h x w,
 * rows `ustride` apart) in raster order, with `stencil` float32 (25, n) from the gather:
 * cols int32 (n, 25), vals float32 (n, 25) of the CSR matrix (a neighbour outside the band
 * becomes a zero on the row's own column; the diagonal gets + lam). The rows with a
 * neighbour outside the band (the band's rim) are listed in `rim` (int64, up to n), and for
 * each, row i of `outside` float32 (n, 25) holds its stencil entries towards those neighbours
 * (else 0) and row i of `fixed` their known alpha (`known` float32, rows `kstride` apart; 0
 * past the frame): the right-hand side's known part is their row sums. Only the rim's rows
 * are written. The rows are split in `threads` blocks (each writes its own). Returns the
 * rim's length, or -1 when out of memory (or when `unknown` has fewer than n pixels). */
AC_EXPORT ptrdiff_t ac_band_rows(const float *stencil, ptrdiff_t n, const uint8_t *unknown,
                                 ptrdiff_t ustride, const float *known, ptrdiff_t kstride,
                                 int h, int w, float lam, int32_t *cols, float *vals,
                                 int64_t *rim, float *outside, float *fixed, int threads) {
    const int blocks = threads < 1 ? 1 : (threads > AC_MAX_THREADS ? AC_MAX_THREADS : threads);
    int32_t *ids = malloc(sizeof(int32_t) * ((size_t)h * (size_t)w + 2 * (size_t)n));
    ptrdiff_t *rims = malloc(sizeof(ptrdiff_t) * (size_t)blocks);
    if (ids == NULL || rims == NULL) {
        free(ids);
        free(rims);
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
    ptrdiff_t total = -1;
    if (next == n) {
        rows_t t = {stencil, n, ids, ys, xs, known, kstride, h, w, blocks, lam, cols, vals,
                    outside, fixed, rim, rims};
        total = ac_parallel(rows_task, &t, blocks, blocks) == 0 ? gather_rims(&t) : -1;
    }
    free(ids);
    free(rims);
    return total;
}
