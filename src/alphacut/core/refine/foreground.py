"""Colour decontamination: foreground colours at the edge without the old background.

Blur-fusion foreground estimation (Forte & Pitie, "Approximate Fast Foreground Colour
Estimation", ICIP 2021): local means of foreground and background, weighted by alpha, then
one correction step so that ``alpha * F + (1 - alpha) * B`` reproduces the photo. It costs a
handful of box filters, and only the pixels of the soft band change.

Only the band is touched: the wide first pass runs on a downsized copy of the band's box, and
everything at full resolution runs tile by tile (``tiles.py``) over the tiles holding soft
pixels, on both cores, with the channels as planes ``(3, h, w)`` that share one alpha.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np
import numpy.typing as npt

from alphacut.core.refine import kernels
from alphacut.core.refine.tiles import (
    AxisTaps,
    TileMap,
    Window,
    refine_threads,
    resize_exact,
    resize_window,
    run_streamed,
    run_tiles,
    tile_windows,
)
from alphacut.types import RGB, Alpha

SOFT_LOW, SOFT_HIGH = 0.004, 0.996
EPS = 1e-5
TILE = 160  # pixels per tile side for the full-resolution passes
COARSE_MIN_RADIUS = 40  # wide passes at least this wide run on a downsized copy
COARSE_STEP = 20  # ... by this many pixels of radius per downsizing step (at most 4x)
HALF_MIN_SIDE = 1024  # photos this large (long side, a 1 MP photo's) are fitted at half size
QUARTER_MIN_SIDE = 4096  # ... and this large (a 12 MP photo's 4240 px) at quarter size
REDUCED_TILE = 256  # full-size pixels per tile side when a reduced fit is applied
F32 = npt.NDArray[np.float32]


def _blur(x: F32, radius: int) -> F32:
    """Box mean over a ``2 * radius + 1`` window of each plane of ``x`` ``(..., h, w)``,
    in place (OpenCV filters allow it)."""
    ksize = (2 * radius + 1, 2 * radius + 1)
    for plane in x.reshape(-1, *x.shape[-2:]):
        cv2.blur(plane, ksize, dst=plane, borderType=cv2.BORDER_REFLECT)
    return x


def _denominators(alpha: F32, radius: int) -> tuple[F32, F32]:
    """``(blur(a) + eps, 1 - blur(a) + eps)`` of ``float32 (h, w)`` alpha, same shape."""
    blurred = _blur(np.array(alpha, dtype=np.float32), radius)
    return blurred + EPS, np.subtract(1.0 + EPS, blurred, out=blurred)


def _correct(image: F32, alpha: F32, fg_mean: F32, bg_mean: F32) -> F32:
    """``fg_mean + a (I - a fg_mean - (1 - a) bg_mean)`` clipped to 0..255: planes
    ``float32 (3, h, w)``, alpha ``(h, w)``; computed as
    ``fg_mean + a (I - bg_mean - a (fg_mean - bg_mean))`` (one temporary)."""
    out = np.subtract(fg_mean, bg_mean)
    out *= alpha
    np.subtract(image, out, out=out)
    out -= bg_mean
    out *= alpha
    out += fg_mean
    return np.clip(out, 0.0, 255.0, out=out)


def soft_mask(alpha: Alpha) -> np.ndarray:
    """``uint8 (h, w)``: 1 where ``SOFT_LOW < alpha < SOFT_HIGH`` (the soft band), else 0."""
    return soft_band(alpha) // 255


def soft_band(alpha: Alpha, tiles: TileMap | None = None) -> np.ndarray:
    """``uint8 (h, w)``: 255 where ``SOFT_LOW < alpha < SOFT_HIGH`` (the soft band), else 0.
    ``tiles``: only their set tiles are looked at (the caller knows that no other tile holds
    a soft pixel; a 12 MP photo's band touches a quarter of them), or, if they carry the band
    itself (``TileMap.pixels``), it is returned."""
    if tiles is not None and tiles.pixels is not None:
        return tiles.pixels  # found by the upsampling that made ``alpha``
    low, high = np.nextafter(np.float32(SOFT_LOW), 1), np.nextafter(np.float32(SOFT_HIGH), 0)
    if tiles is None:
        return cv2.inRange(alpha, float(low), float(high))
    band = np.zeros(alpha.shape, np.uint8)
    for rows, cols in tiles.slices(alpha.shape):
        band[rows, cols] = cv2.inRange(alpha[rows, cols], float(low), float(high))
    return band


def band_box(alpha: Alpha, pad: int, band: np.ndarray | None = None
             ) -> tuple[int, int, int, int] | None:
    """Bounding box (y0, y1, x0, x1) of the soft band, padded; None if there is no band.
    ``band``: :func:`soft_band` of ``alpha``, if made already."""
    soft = soft_band(alpha) if band is None else band
    x, y, bw, bh = cv2.boundingRect(soft)
    if bw == 0 or bh == 0:
        return None
    h, w = alpha.shape
    return max(0, y - pad), min(h, y + bh + pad), max(0, x - pad), min(w, x + bw + pad)


def estimate_foreground(rgb: RGB, alpha: Alpha, *, radii: tuple[int, ...] = (90, 6),
                        soft_tiles: TileMap | None = None,
                        copy: Callable[[], RGB] | None = None) -> RGB:
    """Clean foreground colours ``uint8 (H, W, 3)`` for ``rgb`` under matte ``alpha``
    (``float32 (H, W)`` in [0, 1]); ``soft_tiles``: the only tiles that can hold soft pixels,
    if the caller knows them (the band matting's ``Matte.soft_tiles``); ``copy``: gives a
    copy of ``rgb`` to write into (one the caller started earlier, ``tiles.in_background``:
    a 12 MP photo's copy is 36 MB), else it is made here.

    Pixels outside the soft band keep their original colour. Works in 0..255 units: the first
    (large-radius) pass over the band's box, the later passes tile by tile, each tile grown by
    ``sum(radii[1:])`` pixels (exact: a window's reflected border moves values at most that
    far inward, never onto a pixel written).
    """
    factor = fit_factor(alpha.shape, radii[0])
    band = soft_band(alpha, soft_tiles)
    make_copy = rgb.copy if copy is None else copy
    if factor > 1:
        return _estimate_reduced(rgb, alpha, band, radii, factor, make_copy)
    box = band_box(alpha, pad=radii[0], band=band)
    if box is None:
        return rgb
    step = coarse_factor(radii[0])
    y0, y1 = _whole_steps(box[0], box[1], alpha.shape[0], step)
    x0, x1 = _whole_steps(box[2], box[3], alpha.shape[1], step)
    a = alpha[y0:y1, x0:x1]
    soft = band[y0:y1, x0:x1]
    photo = rgb[y0:y1, x0:x1]
    wide = WideMeans(photo, a, radii[0])
    out = make_copy()
    patch = out[y0:y1, x0:x1]
    local = tuple(radii[1:])

    def tile(window: Window) -> None:
        here = soft[window.target]
        if not here.any():
            return
        a_w = np.ascontiguousarray(a[window.rows, window.cols])
        inv_w = 1.0 - a_w
        image = np.ascontiguousarray(np.moveaxis(photo[window.rows, window.cols], -1, 0),
                                     dtype=np.float32)
        fg_mean, bg = wide.window(window.rows, window.cols)
        for radius in local:
            fg = _correct(image, a_w, fg_mean, bg)
            fg_den, bg_den = _denominators(a_w, radius)
            fg_mean = np.divide(_blur(np.multiply(fg, a_w), radius), fg_den)
            bg = np.divide(_blur(np.multiply(bg, inv_w), radius), bg_den)
        rows, cols = window.inner  # the last step: the tile's own pixels only
        fg = _correct(image[:, rows, cols], a_w[rows, cols], fg_mean[:, rows, cols],
                      bg[:, rows, cols])
        pixels = (fg + 0.5).astype(np.uint8)  # fg is within 0..255
        cv2.copyTo(cv2.merge(list(pixels)), here, patch[window.target])

    run_tiles(tile, tile_windows(a.shape, TILE, sum(local)))
    return out


def fit_factor(shape: tuple[int, int], wide_radius: int = 90) -> int:
    """How much smaller than a photo of ``shape`` ``(H, W)`` the local means are fitted: 1
    below ``HALF_MIN_SIDE`` on the long side, 2 from it, 4 from ``QUARTER_MIN_SIDE``; less
    for a strip whose short side is under one coarse step of the wide pass (a 1 x 1100 px
    image cannot be shrunk by 2)."""
    long_side = max(shape)
    factor = 4 if long_side >= QUARTER_MIN_SIDE else 2 if long_side >= HALF_MIN_SIDE else 1
    while factor > 1 and min(shape) < factor * coarse_factor(max(1, round(wide_radius /
                                                                          factor))):
        factor //= 2
    return factor


def _estimate_reduced(rgb: RGB, alpha: Alpha, band: np.ndarray, radii: tuple[int, ...],
                      factor: int, make_copy: Callable[[], RGB]) -> RGB:
    """:func:`estimate_foreground` of a large photo: the local means (every pass, radii
    divided by ``factor``) fitted on the band box shrunk ``factor`` x (``INTER_AREA``, whole
    blocks; a partial last block row/column takes the last block's means) in whole-box passes,
    then brought back bilinearly per full-size tile, where the last correction step uses the
    full-resolution photo and alpha. ``band``: :func:`soft_band` of ``alpha``;
    ``make_copy``: gives the copy of ``rgb`` to write into."""
    box = band_box(alpha, pad=radii[0], band=band)
    if box is None:
        return rgb
    wide_r = max(1, round(radii[0] / factor))
    local = tuple(max(1, round(r / factor)) for r in radii[1:])
    step = factor * coarse_factor(wide_r)
    y0, y1 = _whole_steps(box[0], box[1], alpha.shape[0], step)
    x0, x1 = _whole_steps(box[2], box[3], alpha.shape[1], step)
    a, soft, photo = alpha[y0:y1, x0:x1], band[y0:y1, x0:x1], rgb[y0:y1, x0:x1]
    hs, ws = a.shape[0] // factor, a.shape[1] // factor
    whole = (slice(0, factor * hs), slice(0, factor * ws))
    a_small = cv2.resize(a[whole], (ws, hs), interpolation=cv2.INTER_AREA)
    p_small = cv2.resize(photo[whole], (ws, hs), interpolation=cv2.INTER_AREA)
    wide = WideMeans(p_small, a_small, wide_r)
    out = make_copy()
    _apply_means(_box_means(p_small, a_small, wide, local), factor, photo, a, soft,
                 out[y0:y1, x0:x1])
    return out


def _box_means(p_small: RGB, a_small: Alpha, wide: WideMeans, local: tuple[int, ...]) -> F32:
    """The local means of every pass over the whole reduced box at once: ``float32 (6, hs,
    ws)``, fg planes 0..2 and bg planes 3..5, of the photo ``uint8 (hs, ws, 3)`` under
    ``a_small`` ``float32 (hs, ws)`` (a few whole-array passes, one job per channel, where
    per-tile windows would repeat their halos and a Python step each)."""
    hs, ws = a_small.shape
    inv = 1.0 - a_small
    fg_means, bg_means = wide.window(slice(0, hs), slice(0, ws))
    denominators = [_denominators(a_small, radius) for radius in local]
    out = np.empty((6, hs, ws), np.float32)

    def channel(c: int) -> None:  # the channels share only alpha: one job each
        image = np.ascontiguousarray(p_small[..., c], dtype=np.float32)
        fg_mean, bg = fg_means[c], bg_means[c]
        for radius, (fg_den, bg_den) in zip(local, denominators, strict=True):
            fg = _correct(image, a_small, fg_mean, bg)
            fg_mean = np.divide(_blur(np.multiply(fg, a_small), radius), fg_den)
            bg = np.divide(_blur(np.multiply(bg, inv), radius), bg_den)
        out[c], out[3 + c] = fg_mean, bg

    run_tiles(channel, range(3))
    return out


def _apply_means(means: F32, factor: int, photo: RGB, alpha: Alpha, soft: np.ndarray,
                 patch: RGB) -> None:
    """The last correction step at full size, tile by tile over each tile's soft pixels'
    box: ``means`` from :func:`_box_means` (the box's grid shrunk ``factor`` x), brought back
    bilinearly; ``photo`` ``uint8 (bh, bw, 3)``, ``alpha`` ``float32 (bh, bw)`` and ``soft``
    ``uint8 (bh, bw)`` of the box; written into ``patch`` (the box of the copy). One call
    for the whole box with the compiled kernel (its tiles on the kernel's threads), else
    numpy/OpenCV passes per tile (the same colours)."""
    _, hs, ws = means.shape
    if kernels.available():
        taps = (AxisTaps(hs, alpha.shape[0], 1.0 / factor),
                AxisTaps(ws, alpha.shape[1], 1.0 / factor))
        kernels.colours_box(means, taps, photo, alpha, soft, patch, REDUCED_TILE,
                            refine_threads())
        return

    def jobs() -> Iterator[tuple[slice, slice]]:
        """Each tile's soft pixels' box, found on the calling thread (small numpy steps,
        which two threads would only contend for the GIL over)."""
        for window in tile_windows(alpha.shape, REDUCED_TILE, 0):
            rows, cols = window.target
            x, y, w, h = cv2.boundingRect(soft[rows, cols])
            if w and h:
                yield (slice(rows.start + y, rows.start + y + h),
                       slice(cols.start + x, cols.start + x + w))

    def tile(job: tuple[slice, slice]) -> None:
        rows, cols = job
        near = resize_exact(means, factor, rows, cols)
        full = np.ascontiguousarray(np.moveaxis(photo[rows, cols], -1, 0), dtype=np.float32)
        fg = _correct(full, np.ascontiguousarray(alpha[rows, cols]), near[:3], near[3:])
        pixels = (fg + 0.5).astype(np.uint8)  # fg is within 0..255
        cv2.copyTo(cv2.merge(list(pixels)), soft[rows, cols], patch[rows, cols])

    run_streamed(tile, jobs())


def coarse_factor(radius: int) -> int:
    """How much the wide pass of ``radius`` is downsized: ``radius // COARSE_STEP``, 1..4."""
    return min(4, radius // COARSE_STEP) if radius >= COARSE_MIN_RADIUS else 1


def _whole_steps(start: int, stop: int, size: int, step: int) -> tuple[int, int]:
    """``start..stop`` grown (within ``0..size``) to a whole number of ``step`` pixels, so the
    wide pass downsizes by an integer factor (OpenCV's fast area path, 3x cheaper)."""
    length = min(size, -(-(stop - start) // step) * step)
    stop = min(size, start + length)
    return stop - length, stop


class WideMeans:
    """The first blur-fusion pass's local foreground and background means of a ``uint8
    (h, w, 3)`` photo under ``float32 (h, w)`` alpha, in 0..255, served window by window.

    A mean over a window ``2 * radius + 1`` wide is smooth, so for wide windows it is computed
    on a copy downsized by ``radius // COARSE_STEP`` (at most 4) and brought back bilinearly,
    per window: a 12 MP photo's wide pass costs a tenth, and the colours move by under one
    level.
    """

    def __init__(self, photo: RGB, alpha: Alpha, radius: int) -> None:
        factor = coarse_factor(radius)
        h, w = alpha.shape
        self.size = (h, w)
        self.factor = factor
        small = (max(1, round(w / factor)), max(1, round(h / factor)))
        a = alpha if factor == 1 else cv2.resize(alpha, small, interpolation=cv2.INTER_AREA)
        p = photo if factor == 1 else cv2.resize(photo, small, interpolation=cv2.INTER_AREA)
        r = max(1, round(radius / factor))
        fg_den, bg_den = _denominators(a, r)
        means = np.empty((6, *a.shape), np.float32)  # fg planes 0..2, bg planes 3..5

        def channel(c: int) -> None:  # one job per channel (they share only alpha)
            np.multiply(p[..., c], a, out=means[c])  # I a
            np.subtract(p[..., c], means[c], out=means[3 + c])  # I (1 - a)
            _blur(means[c], r)
            _blur(means[3 + c], r)
            means[c] /= fg_den
            means[3 + c] /= bg_den

        run_tiles(channel, range(3))
        self.means = means
        self.taps = None if factor == 1 else (AxisTaps(a.shape[0], h), AxisTaps(a.shape[1], w))
        self.whole = a.shape[0] * factor == h and a.shape[1] * factor == w

    def window(self, rows: slice, cols: slice) -> tuple[F32, F32]:
        """Both means on ``[rows, cols]`` of the full-size box, ``float32 (3, h', w')``."""
        if self.factor == 1:
            cut = self.means[:, rows, cols]
        elif self.whole:
            cut = self._resized_crop(rows, cols)
        else:
            cut = resize_window(self.means, self.size, rows, cols, taps=self.taps)
        return cut[:3], cut[3:]

    def _resized_crop(self, rows: slice, cols: slice) -> F32:
        """``resize_window`` when the box is a whole number of ``factor`` pixels: each plane's
        crop (one source pixel of margin inside the box) resized by ``cv2.resize`` itself,
        whose sample positions are then those of the whole box's resize."""
        (src_r, out_r, n_r), (src_c, out_c, n_c) = (
            _crop_axis(rows, self.means.shape[1], self.factor),
            _crop_axis(cols, self.means.shape[2], self.factor))
        return np.stack([cv2.resize(plane[src_r, src_c], (n_c, n_r),
                                    interpolation=cv2.INTER_LINEAR)[out_r, out_c]
                         for plane in self.means])


def _crop_axis(span: slice, small: int, factor: int) -> tuple[slice, slice, int]:
    """For full-size ``span`` of an axis that is ``small * factor`` long: the source crop
    (whole source pixels covering it, plus one of margin where the axis goes on), the span
    within the crop's resize, and that resize's length."""
    lo, hi = span.start // factor, -(-span.stop // factor)
    lo, hi = max(0, lo - 1), min(small, hi + 1)
    offset = lo * factor
    return slice(lo, hi), slice(span.start - offset, span.stop - offset), (hi - lo) * factor
