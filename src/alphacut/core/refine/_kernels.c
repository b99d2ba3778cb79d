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
 * This file: the module, and the two tiled kernels (guided upsampling, colour fit), each one
 * call for a whole frame or box whose tiles _pool.c's loop spreads over the threads; _band.c
 * builds the band's matrix, _cg.c solves it.
 *
 * The module is also a (empty) Python extension so that setuptools builds and names it as
 * one on every platform; kernels.py loads the same file with ctypes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_kernels.h"


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

/* Bilinear taps of a whole axis: for output index i, source indices i0[i], i1[i] and their
 * weights w0[i], w1[i] (tiles.py's AxisTaps, as int32 and float32). */
typedef struct {
    const int32_t *i0, *i1;
    const float *w0, *w1;
} taps_t;

/* ---- Guided upsampling of the matte, tile by tile: alpha = clip(a * gray / 255 + b, 0, 1). */
typedef struct {
    const float *coef;        /* plane a, then plane b `plane` floats after it */
    ptrdiff_t plane, stride;  /* rows `stride` floats apart */
    taps_t rows, cols;        /* for the frame's `height` rows and `width` columns */
    int height, width, tile, tiles_x;
    const uint8_t *rgb;       /* RGB rows, `rgb_stride` bytes apart */
    ptrdiff_t rgb_stride;
    float *out;               /* zeros; rows `out_stride` floats apart */
    ptrdiff_t out_stride;
    uint8_t *band;            /* zeros, or NULL; rows `band_stride` bytes apart */
    ptrdiff_t band_stride;
    uint8_t *active;          /* one byte per tile, row-major */
    float soft_low, soft_high;
} upsample_t;

/* The tile's level when its coefficients' footprint is all a = 0, b = level, else -1 (a
 * NaN level, or one outside 0..1 before clipping, is returned clipped as the numpy path's
 * min/max does; a NaN never compares equal, so the tile is not constant). */
static int constant_level(const upsample_t *u, int y0, int y1, int x0, int x1, float *level) {
    const int r0 = u->rows.i0[y0], r1 = u->rows.i1[y1 - 1];
    const int c0 = u->cols.i0[x0], c1 = u->cols.i1[x1 - 1];
    const float first = u->coef[u->plane + (ptrdiff_t)r0 * u->stride + c0];
    for (int r = r0; r <= r1; r++) {
        const float *a = u->coef + (ptrdiff_t)r * u->stride, *b = a + u->plane;
        int differs = 0;
        for (int c = c0; c <= c1; c++) {
            differs |= (a[c] != 0.0f) | (b[c] != first);
        }
        if (differs) {
            return 0;
        }
    }
    *level = clip(first, 1.0f);
    return 1;
}

/* Fills the rows y0..y1-1, columns x0..x1-1 of float32 rows `stride` apart with `value`. */
static void fill(float *out, ptrdiff_t stride, int y0, int y1, int x0, int x1, float value) {
    for (int y = y0; y < y1; y++) {
        float *row = out + (ptrdiff_t)y * stride;
        for (int x = x0; x < x1; x++) {
            row[x] = value;
        }
    }
}

/* The upsampling of the tile at rows y0..y1-1, columns x0..x1-1 (grey made here as OpenCV's
 * RGB2GRAY: (9798 R + 19235 G + 3735 B + 2^14) >> 15); the band map too, if there is one. */
static int upsample_tile(const upsample_t *u, int y0, int y1, int x0, int x1) {
    const int th = y1 - y0, tw = x1 - x0;
    const int lo = u->rows.i0[y0], nrows = u->rows.i1[y1 - 1] - lo + 1;
    float *buf = malloc(sizeof(float) * ((size_t)2 * nrows * tw + (size_t)2 * tw));
    if (buf == NULL) {
        return -1;
    }
    horizontal(u->coef, u->plane, u->stride, 2, lo, nrows, u->cols.i0 + x0, u->cols.i1 + x0,
               u->cols.w0 + x0, u->cols.w1 + x0, tw, buf);
    float *va = buf + (size_t)2 * nrows * tw, *vb = va + tw;
    const float scale = 1.0f / 255.0f;
    for (int i = 0; i < th; i++) {
        const int y = y0 + i, ya = u->rows.i0[y] - lo, yb = u->rows.i1[y] - lo;
        const float w0 = u->rows.w0[y], w1 = u->rows.w1[y];
        vertical(buf + (ptrdiff_t)ya * tw, buf + (ptrdiff_t)yb * tw, w0, w1, tw, va);
        vertical(buf + ((ptrdiff_t)nrows + ya) * tw, buf + ((ptrdiff_t)nrows + yb) * tw, w0,
                 w1, tw, vb);
        const uint8_t *px = u->rgb + (ptrdiff_t)y * u->rgb_stride + (ptrdiff_t)3 * x0;
        float *dst = u->out + (ptrdiff_t)y * u->out_stride + x0;
        for (int j = 0; j < tw; j++) {
            const int g = (9798 * px[3 * j] + 19235 * px[3 * j + 1] + 3735 * px[3 * j + 2]
                           + (1 << 14)) >> 15;
            float v = va[j] * ((float)g * scale);
            v += vb[j];
            dst[j] = clip(v, 1.0f);
        }
        if (u->band != NULL) {
            uint8_t *b = u->band + (ptrdiff_t)y * u->band_stride + x0;
            for (int j = 0; j < tw; j++) {
                b[j] = dst[j] > u->soft_low && dst[j] < u->soft_high ? 255 : 0;
            }
        }
    }
    free(buf);
    return 0;
}

/* One tile of the loop: a constant tile is filled with its level (a clear one left as the
 * zeros it is), any other upsampled; `active` is set where the tile is neither 0 nor 1. */
static int upsample_task(void *ctx, int index) {
    const upsample_t *u = ctx;
    const int ty = index / u->tiles_x, tx = index % u->tiles_x;
    const int y0 = ty * u->tile, x0 = tx * u->tile;
    const int y1 = y0 + u->tile < u->height ? y0 + u->tile : u->height;
    const int x1 = x0 + u->tile < u->width ? x0 + u->tile : u->width;
    float level;
    if (!constant_level(u, y0, y1, x0, x1, &level)) {
        u->active[index] = 1;
        return upsample_tile(u, y0, y1, x0, x1);
    }
    if (level != 0.0f) {
        fill(u->out, u->out_stride, y0, y1, x0, x1, level);
    }
    u->active[index] = level != 0.0f && level != 1.0f;
    if (u->band != NULL && level > u->soft_low && level < u->soft_high) {
        for (int y = y0; y < y1; y++) {
            memset(u->band + (ptrdiff_t)y * u->band_stride + x0, 255, (size_t)(x1 - x0));
        }
    }
    return 0;
}

/* Guided upsampling of a whole frame (`height` x `width`) in `tile`-pixel tiles on `threads`
 * threads; the arguments as upsample_t's fields. Returns 0, or -1 when out of memory. */
AC_EXPORT int ac_upsample_frame(const float *coef, ptrdiff_t plane, ptrdiff_t stride,
                                const int32_t *ry0, const int32_t *ry1, const float *rw0,
                                const float *rw1, const int32_t *cx0, const int32_t *cx1,
                                const float *cw0, const float *cw1, int height, int width,
                                int tile, const uint8_t *rgb, ptrdiff_t rgb_stride,
                                float *out, ptrdiff_t out_stride, uint8_t *band,
                                ptrdiff_t band_stride, uint8_t *active, float soft_low,
                                float soft_high, int threads) {
    if (height <= 0 || width <= 0 || tile <= 0) {
        return 0;
    }
    upsample_t u = {coef, plane, stride, {ry0, ry1, rw0, rw1}, {cx0, cx1, cw0, cw1}, height,
                    width, tile, (width + tile - 1) / tile, rgb, rgb_stride, out, out_stride,
                    band, band_stride, active, soft_low, soft_high};
    return ac_parallel(upsample_task, &u, u.tiles_x * ((height + tile - 1) / tile), threads);
}

/* ---- Blur-fusion's last step, tile by tile over a box, at its soft pixels only:
 * F = fg + a (I - bg - a (fg - bg)), clipped to 0..255 and rounded, where fg and bg are the
 * local means (float32 planes 0..2 and 3..5) sampled bilinearly through the taps. */
typedef struct {
    const float *means;       /* planes `plane` floats apart, rows `stride` apart */
    ptrdiff_t plane, stride;
    taps_t rows, cols;        /* for the box's `height` rows and `width` columns */
    int height, width, tile, tiles_x;
    const uint8_t *photo;     /* RGB rows, `photo_stride` bytes apart */
    ptrdiff_t photo_stride;
    const float *alpha;       /* rows `alpha_stride` floats apart */
    ptrdiff_t alpha_stride;
    const uint8_t *soft;      /* non-zero where a pixel is written; rows `soft_stride` apart */
    ptrdiff_t soft_stride;
    uint8_t *out;             /* RGB rows, `out_stride` bytes apart */
    ptrdiff_t out_stride;
} colours_t;

/* The first and last soft column of row y within x0..x1-1 (returns 0 if it has none). */
static int soft_span(const colours_t *f, int y, int x0, int x1, int *first, int *last) {
    const uint8_t *row = f->soft + (ptrdiff_t)y * f->soft_stride;
    int a = x0, b = x1 - 1;
    while (a <= b && !row[a]) {
        a++;
    }
    while (b >= a && !row[b]) {
        b--;
    }
    *first = a;
    *last = b;
    return a <= b;
}

/* The tile's soft pixels' box: rows *y0..*y1-1, columns *x0..*x1-1 (0 if it has none). */
static int soft_box(const colours_t *f, int *y0, int *y1, int *x0, int *x1) {
    int top = *y1, bottom = *y0 - 1, left = *x1, right = *x0 - 1, first, last;
    for (int y = *y0; y < *y1; y++) {
        if (soft_span(f, y, *x0, *x1, &first, &last)) {
            top = y < top ? y : top;
            bottom = y;
            left = first < left ? first : left;
            right = last > right ? last : right;
        }
    }
    if (bottom < top) {
        return 0;
    }
    *y0 = top, *y1 = bottom + 1, *x0 = left, *x1 = right + 1;
    return 1;
}

/* The horizontal pass of the six means over source rows lo..lo+nrows-1 for the box's
 * columns x0..x0+tw-1, interleaved: fg rows then bg rows, buf[(half nrows + r) 3 tw + 3 j + c]. */
static void means_rows(const colours_t *f, int lo, int nrows, int x0, int tw, float *buf) {
    const ptrdiff_t wide = (ptrdiff_t)3 * tw;
    const int32_t *cx0 = f->cols.i0 + x0, *cx1 = f->cols.i1 + x0;
    const float *cw0 = f->cols.w0 + x0, *cw1 = f->cols.w1 + x0;
    for (int half = 0; half < 2; half++) {
        for (int r = 0; r < nrows; r++) {
            float *dst = buf + ((ptrdiff_t)half * nrows + r) * wide;
            for (int c = 0; c < 3; c++) {
                const float *row = f->means + (half * 3 + c) * f->plane
                                   + (ptrdiff_t)(lo + r) * f->stride;
                for (int j = 0; j < tw; j++) {
                    float v = row[cx0[j]] * cw0[j];
                    v += row[cx1[j]] * cw1[j];
                    dst[3 * j + c] = v;
                }
            }
        }
    }
}

/* Row y's corrected colours at its soft columns first..last: `means` holds the two means'
 * horizontal passes over the box's columns from x0 (`nrows` source rows from `lo`, 3 tw
 * floats each); scratch: 4 rows of 3 tw floats (fg, bg, alpha per value, result). */
static void colours_row(const colours_t *f, int y, int x0, int first, int last,
                        const float *means, int lo, int nrows, int tw, float *scratch) {
    const ptrdiff_t wide = (ptrdiff_t)3 * tw, skip = (ptrdiff_t)3 * (first - x0);
    const int n = 3 * (last - first + 1);
    const int ya = f->rows.i0[y] - lo, yb = f->rows.i1[y] - lo;
    const float w0 = f->rows.w0[y], w1 = f->rows.w1[y];
    float *fg = scratch, *bg = fg + wide, *a3 = bg + wide;
    uint8_t *pixels = (uint8_t *)(a3 + wide);
    vertical(means + ya * wide + skip, means + yb * wide + skip, w0, w1, n, fg);
    vertical(means + ((ptrdiff_t)nrows + ya) * wide + skip,
             means + ((ptrdiff_t)nrows + yb) * wide + skip, w0, w1, n, bg);
    const float *arow = f->alpha + (ptrdiff_t)y * f->alpha_stride + first;
    for (int j = 0; j < n / 3; j++) {
        a3[3 * j] = a3[3 * j + 1] = a3[3 * j + 2] = arow[j];
    }
    const uint8_t *src = f->photo + (ptrdiff_t)y * f->photo_stride + (ptrdiff_t)3 * first;
    for (int k = 0; k < n; k++) {
        const float a = a3[k];
        float v = fg[k] - bg[k];
        v *= a;
        v = (float)src[k] - v;
        v -= bg[k];
        v *= a;
        v += fg[k];
        pixels[k] = (uint8_t)(int)(clip(v, 255.0f) + 0.5f);
    }
    const uint8_t *srow = f->soft + (ptrdiff_t)y * f->soft_stride + first;
    uint8_t *dst = f->out + (ptrdiff_t)y * f->out_stride + (ptrdiff_t)3 * first;
    for (int j = 0; j < n / 3; j++) {
        if (srow[j]) {
            dst[3 * j] = pixels[3 * j];
            dst[3 * j + 1] = pixels[3 * j + 1];
            dst[3 * j + 2] = pixels[3 * j + 2];
        }
    }
}

/* One tile of the box: the colours at its soft pixels, row by row over each row's soft span. */
static int colours_task(void *ctx, int index) {
    const colours_t *f = ctx;
    const int ty = index / f->tiles_x, tx = index % f->tiles_x;
    int y0 = ty * f->tile, x0 = tx * f->tile;
    int y1 = y0 + f->tile < f->height ? y0 + f->tile : f->height;
    int x1 = x0 + f->tile < f->width ? x0 + f->tile : f->width;
    if (!soft_box(f, &y0, &y1, &x0, &x1)) {
        return 0;
    }
    const int tw = x1 - x0, lo = f->rows.i0[y0], nrows = f->rows.i1[y1 - 1] - lo + 1;
    const size_t wide = (size_t)3 * tw;
    float *buf = malloc(sizeof(float) * (2 * (size_t)nrows * wide + 4 * wide));
    if (buf == NULL) {
        return -1;
    }
    means_rows(f, lo, nrows, x0, tw, buf);
    int first, last;
    for (int y = y0; y < y1; y++) {
        if (soft_span(f, y, x0, x1, &first, &last)) {
            colours_row(f, y, x0, first, last, buf, lo, nrows, tw,
                        buf + 2 * (size_t)nrows * wide);
        }
    }
    free(buf);
    return 0;
}

/* Blur-fusion's last step over a box (`height` x `width`) in `tile`-pixel tiles on `threads`
 * threads; the arguments as colours_t's fields. Returns 0, or -1 when out of memory. */
AC_EXPORT int ac_colours_box(const float *means, ptrdiff_t plane, ptrdiff_t stride,
                             const int32_t *ry0, const int32_t *ry1, const float *rw0,
                             const float *rw1, const int32_t *cx0, const int32_t *cx1,
                             const float *cw0, const float *cw1, int height, int width,
                             int tile, const uint8_t *photo, ptrdiff_t photo_stride,
                             const float *alpha, ptrdiff_t alpha_stride, const uint8_t *soft,
                             ptrdiff_t soft_stride, uint8_t *out, ptrdiff_t out_stride,
                             int threads) {
    if (height <= 0 || width <= 0 || tile <= 0) {
        return 0;
    }
    colours_t f = {means, plane, stride, {ry0, ry1, rw0, rw1}, {cx0, cx1, cw0, cw1}, height,
                   width, tile, (width + tile - 1) / tile, photo, photo_stride, alpha,
                   alpha_stride, soft, soft_stride, out, out_stride};
    return ac_parallel(colours_task, &f, f.tiles_x * ((height + tile - 1) / tile), threads);
}

/* The interface's version: kernels.py uses a build only if it was made from this file (a stale
 * build with other signatures is ignored, not called). */
AC_EXPORT int ac_abi_version(void) { return AC_ABI_VERSION; }

static struct PyModuleDef kernels_module = {PyModuleDef_HEAD_INIT, "_kernels",
                                            "Fused refine kernels (called through ctypes).",
                                            -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }

