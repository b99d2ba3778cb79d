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
 * This file: the module, and the two per-tile kernels (guided upsampling, colour fit);
 * _band.c builds the band's matrix, _cg.c solves it.
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

/* The interface's version: kernels.py uses a build only if it was made from this file (a stale
 * build with other signatures is ignored, not called). */
AC_EXPORT int ac_abi_version(void) { return AC_ABI_VERSION; }

static struct PyModuleDef kernels_module = {PyModuleDef_HEAD_INIT, "_kernels",
                                            "Fused refine kernels (called through ctypes).",
                                            -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }

