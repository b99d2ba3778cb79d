"""Matting in the uncertain band: closed-form alpha where the model is unsure, nowhere else.

The model's soft mask gives a trimap: sure foreground where ``soft >= hi``, sure background
where ``soft <= lo``, both eroded by a band whose width scales with the image. In the unknown
band between them, alpha is the minimiser of Levin et al.'s closed-form matting energy
("A Closed-Form Solution to Natural Image Matting", PAMI 2008) plus a weak pull towards the
model's soft mask::

    alpha_U = argmin  alpha^T L alpha + lam * |alpha_U - soft_U|^2,   alpha fixed on the trimap

``L`` is the matting Laplacian of 3x3 colour windows (laplacian.py). Only its rows for the
band's pixels are built, at a bounded working resolution (``max_side``), with numpy and
SciPy's compiled CSR product alone (sparse.py: no numba JIT, no first-call delay), and
solved by a few dozen Jacobi-preconditioned conjugate gradient steps started from the soft
mask. Large images are solved at the working
resolution and the working-size matte is brought back with edge-aware (guided) upsampling
against the full-resolution photo, tile by tile: a tile whose guided coefficients are
constant (sure regions away from the band) is filled, the others are computed (tiles.py).

Touch-up strokes (strokes.py) enter only the trimap (``stroke_trimap``): their pixels become
known, the region each one reaches is decided again and gets a fresh band around its outline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from alphacut.core.refine import kernels
from alphacut.core.refine.foreground import SOFT_HIGH, SOFT_LOW, soft_band
from alphacut.core.refine.scale import SolveScale, solve_size
from alphacut.core.refine.strokes import StrokeMap
from alphacut.core.refine.tiles import (
    AxisTaps,
    TileMap,
    Window,
    refine_threads,
    resize_exact,
    resize_window,
    run_jobs,
    run_streamed,
    tile_windows,
)
from alphacut.types import RGB, Alpha, Mask, SoftMask

BoolMap = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]

MIN_REACH = 12  # pixels: small images still get a band as wide as a model's blur
UPSAMPLE_TILE = 256  # pixels per tile side when the matte is brought to full size


@dataclass(frozen=True)
class MattingParams:
    """Knobs of :func:`refine_band` (defaults measured on ../shared/evaldata).

    - ``lo``/``hi``: soft-mask levels at or below/above which a pixel is sure background/fg.
    - ``band``: extra band width on each side, as a fraction of the working image's long side.
    - ``reach``: the band reaches at most this far (same unit) from the mask's 0.5 outline.
    - ``max_side``: the solve runs with the image's long side at most this many pixels.
    - ``lam``: pull towards the soft mask inside the band (0 = pure closed-form matting).
    - ``eps``: colour-line regulariser of the matting Laplacian, on [0, 1] colours.
    - ``iters``/``tol``: conjugate-gradient steps and relative residual to stop at (1e-3:
      about 47 steps where 1e-4 took 85; SAD/gradient +0.03/+0.07%, MAE/IoU within 3e-4 on
      alphamatting + 40 ecssd photos, u2netp).
    - ``stroke_reach``: touch-up strokes re-open the solve this far around them (same unit as
      ``reach``); ``stroke_iters``: CG steps when there are strokes (their zones are wide).
    """

    lo: float = 0.05
    hi: float = 0.95
    band: float = 0.0
    reach: float = 0.03
    max_side: int = 1024
    lam: float = 1e-2
    eps: float = 1e-5
    iters: int = 100
    tol: float = 1e-3
    stroke_reach: float = 0.15
    stroke_iters: int = 400


def band_trimap(soft: Mask, *, lo: float, hi: float, width: int, reach: int,
                value: Mask | None = None) -> tuple[BoolMap, Alpha]:
    """The unknown band ``bool (h, w)`` and the known alpha ``float32 (h, w)`` around it.

    ``soft``: ``float32 (h, w)`` in [0, 1]. Sure foreground (``soft >= hi``) and sure
    background (``soft <= lo``), each eroded by ``width`` pixels, are known as 1 and 0; the
    rest is unknown only within ``reach`` pixels of the mask's 0.5 outline. Farther unsure
    pixels (a model's grey, half-believed interior) keep their soft value (or ``value``'s, a
    second ``float32 (h, w)`` map) as a known one.
    """
    fg = (soft >= hi).astype(np.uint8)
    bg = (soft <= lo).astype(np.uint8)
    if width > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
        fg = cv2.erode(fg, kernel, borderType=cv2.BORDER_REPLICATE)
        bg = cv2.erode(bg, kernel, borderType=cv2.BORDER_REPLICATE)
    unsure = (fg == 0) & (bg == 0)
    unknown = np.zeros(soft.shape, np.bool_)
    box = _padded_box(unsure, reach + 1)  # a pixel within reach of the outline sees it in here
    if box is not None:
        inside = (soft[box] >= 0.5).astype(np.uint8)
        # within ``reach`` of the other side of the outline (distance transforms: linear time,
        # where a morphology kernel that wide costs several times more); each pixel is 0 in
        # one of the two maps, so their sum is its distance to the other side
        distance = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_5)
        distance += cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_5)
        unknown[box] = (distance <= reach) & unsure[box]
    known = np.array(soft if value is None else value, dtype=np.float32)
    known[fg > 0] = 1.0
    known[bg > 0] = 0.0
    return unknown, known


def _padded_box(mask: BoolMap | npt.NDArray[np.uint8], pad: int
                ) -> tuple[slice, slice] | None:
    """The bounding box of ``mask``'s set pixels (``bool`` or ``uint8 (h, w)``) grown by
    ``pad`` (clipped), or None."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    if w == 0 or h == 0:
        return None
    height, width = mask.shape
    return (slice(max(0, y - pad), min(height, y + h + pad)),
            slice(max(0, x - pad), min(width, x + w + pad)))


def solve_alpha(image: F32, unknown: BoolMap, known: Alpha, prior: Mask, *,
                lam: float = 1e-3, eps: float = 1e-5, iters: int = 100, tol: float = 1e-4,
                initial: Alpha | None = None) -> Alpha:
    """Alpha ``float32 (h, w)`` in [0, 1]: ``known`` outside ``unknown``, matted inside it.

    ``image``: ``float32 (h, w, 3)`` in [0, 1]; ``unknown``: ``bool (h, w)``; ``known`` and
    ``prior``: ``float32 (h, w)`` in [0, 1] (the prior is the weak data term, and the
    solver's start unless ``initial``, a ``float32 (h, w)`` guess, is given).
    """
    from alphacut.core.refine.laplacian import band_stencil, band_system, pcg

    h, w = prior.shape
    alpha = known.astype(np.float32, copy=True)
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    if rows.size == 0:
        return alpha
    crop = (slice(max(0, rows[0] - 2), min(h, rows[-1] + 3)),
            slice(max(0, cols[0] - 2), min(w, cols[-1] + 3)))
    band = unknown[crop]
    stencil = band_stencil(np.ascontiguousarray(image[crop]), band, eps)
    system, rhs, diagonal = band_system(stencil, band, alpha[crop], prior[crop], lam)
    start = (prior if initial is None else initial)[crop][band].astype(np.float32)
    solution, _ = pcg(system, rhs, start, 1.0 / diagonal, iters, tol)
    alpha[crop][band] = np.clip(solution, 0.0, 1.0)
    return alpha


class Matte(NamedTuple):
    """:func:`refine_band_matte`'s answer: the matte ``float32 (H, W)`` in [0, 1] and, when
    it was brought back from a working size, the tiles that may hold soft pixels (every
    other tile is exactly 0 or 1), else None."""

    alpha: Alpha
    soft_tiles: TileMap | None


def refine_band(rgb: RGB, soft: Mask | SoftMask, params: MattingParams | None = None, *,
                unsure: Mask | None = None, strokes: StrokeMap | None = None,
                band: bool = True, initial: Alpha | None = None) -> Alpha:
    """The matte ``float32 (H, W)`` in [0, 1] of :func:`refine_band_matte` (same arguments)."""
    return refine_band_matte(rgb, soft, params, unsure=unsure, strokes=strokes, band=band,
                             initial=initial).alpha


def refine_band_matte(rgb: RGB, soft: Mask | SoftMask, params: MattingParams | None = None,
                      *, unsure: Mask | None = None, strokes: StrokeMap | None = None,
                      band: bool = True, initial: Alpha | None = None) -> Matte:
    """Matte ``float32 (H, W)`` in [0, 1] for ``rgb`` ``uint8 (H, W, 3)`` from its soft mask.

    Sure regions become exactly 0 or 1; the band is solved at most ``params.max_side`` pixels
    on the long side and brought back to full size with guided upsampling. ``unsure``
    (``float32 (H, W)``, default ``soft``) is the map the trimap is cut from, e.g. the plain
    mean of an ensemble, which stays grey wherever its models disagree. ``strokes`` (at
    ``(H, W)``) are hard keep (1) / remove (0) constraints, with the solve re-opened around
    them; ``band=False`` solves near the strokes only and keeps ``soft`` everywhere else.
    ``initial`` (``float32 (H, W)`` in [0, 1], e.g. the previous video frame's alpha) is where
    the band's solver starts instead of the soft mask: the same answer, in fewer steps if it is
    closer. ``soft`` may be the mask stage's :class:`SoftMask`, whose full-size array is then
    only made if strokes or a small photo need it (the solve takes its working-size copy).
    """
    p = params or MattingParams()
    mask = soft if isinstance(soft, SoftMask) else SoftMask.of(soft)
    height, width = mask.shape
    scale = solve_size(height, width, p.max_side)
    scaled = scale.scaled
    marked = strokes is not None and strokes.any
    if not band and not marked:
        return Matte(mask.full(), None)
    gray: F32 | None = None
    if scaled:
        image, prior, cut, gray = downsized(rgb, mask, unsure, scale)
    else:
        image, prior = rgb, mask.full()
        cut = prior if unsure is None else unsure
    long_side = max(scale.size)
    width_px = max(1, round(p.band * long_side))
    reach = max(width_px + 1, MIN_REACH, round(p.reach * long_side))
    if band:
        unknown, known = band_trimap(cut, lo=p.lo, hi=p.hi, width=width_px, reach=reach,
                                     value=prior)
    else:
        unknown, known = np.zeros(prior.shape, np.bool_), prior.astype(np.float32)
    zone, iters = None, p.iters
    if strokes is not None and marked:
        small = scale_strokes(strokes, scale) if scaled else strokes
        unknown, known, prior, zone = stroke_trimap(image, (unknown, known), prior, small, p,
                                                    width=width_px, reach=reach)
        iters = p.stroke_iters
    if initial is not None and initial.shape != mask.shape:
        initial = None  # a guess for another frame size: no use
    if initial is not None and scaled:
        initial = scale.shrink(initial)
    alpha = solve_alpha(image.astype(np.float32) * (1.0 / 255.0), unknown, known, prior,
                        lam=p.lam, eps=p.eps, iters=iters, tol=p.tol, initial=initial)
    soft_tiles = None
    if scaled:
        soft_tiles = TileMap.empty((height, width), UPSAMPLE_TILE, pixels=True)
        alpha = upsample_matte(alpha, rgb, radius=scale.radius, guide=gray, scale=scale,
                               active=soft_tiles.active, band=soft_tiles.pixels)
    if strokes is None or zone is None:
        return Matte(alpha, soft_tiles)
    return Matte(pin_strokes(alpha, mask.full(), strokes, zone, band=band), None)


def stroke_trimap(image: RGB, trimap: tuple[BoolMap, Alpha], prior: Mask,
                  strokes: StrokeMap, p: MattingParams, *, width: int, reach: int
                  ) -> tuple[BoolMap, Alpha, Mask, BoolMap]:
    """The trimap ``(unknown, known)`` with touch-up strokes as hard constraints, all
    ``(h, w)``; ``image`` ``uint8 (h, w, 3)``, ``prior`` the working soft mask.

    Keep pixels become known 1 and remove pixels known 0. Each stroke reaches along
    colour-aware paths (``geodesic_reach``, at most ``p.stroke_reach`` of the long side); in
    that zone the subject is decided again by a colour-model graph cut with the strokes as
    definite labels, and the zone gets a fresh band (``width``, ``reach``) around the new
    outline, which the solve mattes from the photo's colours: the edge stays soft. The prior
    (start and weak pull) in the zone is the new decision. Returns (unknown, known, prior,
    zone ``bool (h, w)`` incl. the strokes).
    """
    from alphacut.core.refine.strokes import cut_zone

    unknown, known = trimap
    decided, zone = cut_zone(image, np.where(unknown, prior, known), strokes,
                             reach=max(MIN_REACH, p.stroke_reach * max(prior.shape)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    zone = cv2.dilate(zone.astype(np.uint8), kernel).astype(np.bool_)
    decided = cv2.GaussianBlur(decided, (0, 0), 1.0)
    new_unknown, new_known = band_trimap(decided, lo=p.lo, hi=p.hi, width=width, reach=reach)
    unknown = np.where(zone, new_unknown, unknown) & ~strokes.marked
    known = np.where(zone, new_known, known).astype(np.float32)
    prior = np.where(zone, decided, prior).astype(np.float32)
    known[strokes.keep] = 1.0
    known[strokes.remove] = 0.0
    return unknown, known, prior, zone


def scale_strokes(strokes: StrokeMap, scale: SolveScale) -> StrokeMap:
    """Strokes at ``scale``'s working size: a working pixel is marked when a quarter of it is
    (thin strokes survive a large downscale; keep wins where both meet)."""
    maps = [scale.shrink(m.astype(np.float32)) >= 0.25 for m in (strokes.keep, strokes.remove)]
    return StrokeMap(maps[0], maps[1] & ~maps[0])


def pin_strokes(alpha: Alpha, soft: Mask, strokes: StrokeMap, zone: BoolMap, *, band: bool
                ) -> Alpha:
    """Full-size ``alpha`` exactly 1 on keep and 0 on remove pixels; without the band
    (``band=False``) the soft mask everywhere outside the strokes' zone."""
    height, width = alpha.shape
    if not band:
        if zone.shape != alpha.shape:
            zone = cv2.resize(zone.astype(np.uint8), (width, height),
                              interpolation=cv2.INTER_NEAREST).astype(np.bool_)
        alpha = np.where(zone, alpha, soft).astype(np.float32)
    alpha[strokes.keep] = 1.0
    alpha[strokes.remove] = 0.0
    return alpha


def downsized(rgb: RGB, soft: SoftMask, unsure: Mask | None, scale: SolveScale
              ) -> tuple[RGB, Mask, Mask, F32]:
    """The working-size copies of the solve at ``scale`` (area averaged: ``scale.shrink``):
    the photo ``uint8 (h, w, 3)``, the soft mask (``soft.at``) and the map the trimap is cut
    from (``unsure``, or the soft mask) ``float32 (h, w)``, and the grey guide of the
    upsampling, made from the small photo (``float32 (h, w)`` in [0, 1]). The photo's
    shrink runs on a second thread while this one does the rest (OpenCV releases the GIL)."""
    from alphacut.core.mask import to_gray

    def photo() -> tuple[RGB, F32]:
        small = scale.shrink(rgb)
        return small, to_gray(small)

    def masks() -> tuple[Mask, Mask]:
        prior = soft.at(scale)
        return prior, prior if unsure is None else scale.shrink(unsure)

    jobs: list[Callable[[], object]] = [photo, masks]
    (image, gray), (prior, cut) = run_jobs(jobs)  # type: ignore[misc]
    return image, prior, cut, gray


def upsample_matte(alpha: Alpha, rgb: RGB, *, radius: int = 2, eps: float = 1e-4,
                   guide: F32 | None = None, scale: SolveScale | None = None,
                   active: BoolMap | None = None,
                   band: npt.NDArray[np.uint8] | None = None) -> Alpha:
    """Guided upsampling of a working-size matte ``float32 (h, w)`` to ``rgb``'s ``(H, W)``.

    The guided filter's linear coefficients are fitted at ``(h, w)`` against the grey image and
    applied to the full-resolution grey image, so edges follow the photo. Returns [0, 1].
    ``guide``: the grey image at ``(h, w)`` (``float32`` in [0, 1]), if made already (by
    default the grey of the ``INTER_AREA`` photo); ``scale``: the working grid's geometry
    (default: ``(h, w)`` covers the frame, as ``cv2.resize``). Applied tile by tile, the
    full-size grey made per tile: a tile whose coefficients are all ``a = 0, b = c`` is
    just ``c``. ``active``: ``bool (ceil(H / UPSAMPLE_TILE), ceil(W / UPSAMPLE_TILE))``, set
    here for every tile that is not all 0 or all 1 (the only ones that can hold soft pixels).
    ``band``: ``uint8 (H, W)`` zeros, set to 255 here at the soft pixels (foreground.py's
    ``soft_band``; with the compiled kernels in the same pass).
    """
    from alphacut.core.mask import to_gray

    height, width = rgb.shape[:2]
    h, w = alpha.shape
    if guide is None:
        guide = to_gray(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA))
    coefficients = varying_coefficients(guide, alpha, radius, eps)
    out = np.zeros((height, width), np.float32)  # fresh zero pages: clear tiles cost nothing
    taps = (AxisTaps(h, height), AxisTaps(w, width)) if scale is None else scale.taps_back()
    if kernels.available():  # the whole frame in one call, its tiles on the kernels' threads
        tiles = active if active is not None else TileMap.empty((height, width),
                                                                UPSAMPLE_TILE).active
        kernels.upsample_frame(coefficients, taps, rgb, out, UPSAMPLE_TILE, tiles,
                               None if band is None else (band, SOFT_LOW, SOFT_HIGH),
                               refine_threads())
        return out
    _upsample_tiles(coefficients, taps, 0 if scale is None else scale.factor, rgb, out,
                    active, band)
    return out


def _upsample_tiles(coefficients: F32, taps: tuple[AxisTaps, AxisTaps], exact: int, rgb: RGB,
                    out: F32, active: BoolMap | None, band: npt.NDArray[np.uint8] | None
                    ) -> None:
    """:func:`upsample_matte`'s numpy path (the compiled kernel's reference), tile by tile
    into ``out`` ``float32 (H, W)`` zeros: ``coefficients`` ``float32 (2, h, w)``, the axes'
    ``taps``, ``exact`` the working grid's exact factor (or 0), ``active`` and ``band`` as
    there."""
    height, width = out.shape
    soft_low, soft_high = (np.float32(v) for v in (SOFT_LOW, SOFT_HIGH))

    def constant(window: Window) -> bool:
        """Fill the tile if its coefficients are all ``a = 0, b = c`` (then it is ``c``)."""
        rows, cols = window.target
        near = coefficients[:, taps[0].footprint(rows), taps[1].footprint(cols)]
        level = near[1].flat[0]
        if near[0].any() or not (near[1] == level).all():
            return False
        value = min(max(float(level), 0.0), 1.0)
        if value != 0.0:
            out[rows, cols] = value
        if active is not None and value not in (0.0, 1.0):
            active[rows.start // UPSAMPLE_TILE, cols.start // UPSAMPLE_TILE] = True
        if band is not None and soft_low < np.float32(value) < soft_high:
            band[rows, cols] = 255
        return True

    def tile(window: Window) -> None:
        rows, cols = window.target
        ab = resize_exact(coefficients, exact, rows, cols) if exact else \
            resize_window(coefficients, (height, width), rows, cols, taps=taps)
        _apply(ab, rgb[rows, cols], out[rows, cols])
        if band is not None:
            band[rows, cols] = soft_band(out[rows, cols])

    def computed() -> Iterator[Window]:
        for window in tile_windows((height, width), UPSAMPLE_TILE, 0):
            if not constant(window):
                if active is not None:
                    active[window.target[0].start // UPSAMPLE_TILE,
                           window.target[1].start // UPSAMPLE_TILE] = True
                yield window

    # the constant tiles sorted out on this thread (small numpy steps: two threads would only
    # contend for the GIL, 3x slower at 12 MP), each other tile handed on to a helper thread
    run_streamed(tile, computed())


def _apply(ab: F32, rgb: RGB, out: F32) -> None:
    """``out`` = clip(a * gray + b, 0, 1) for coefficients ``ab`` ``float32 (2, h, w)`` (a
    scratch copy, overwritten) and ``rgb`` ``uint8 (h, w, 3)``; the numpy path of
    ``kernels.upsample_frame``."""
    from alphacut.core.mask import to_gray

    ab[0] *= to_gray(rgb)
    ab[0] += ab[1]
    np.clip(ab[0], 0.0, 1.0, out=out)


def varying_coefficients(guide: F32, alpha: Alpha, radius: int, eps: float) -> F32:
    """The guided filter's ``(a, b)`` of ``alpha`` against ``guide`` as ``float32
    (2, h, w)``, fitted only on the box where the matte varies (``alpha`` and ``guide``
    ``float32 (h, w)``): elsewhere alpha is constant over every window that reaches a pixel,
    so ``a = 0`` and ``b = alpha`` there, as the full-frame fit gives (to a float32 rounding
    on grey). The box is grown by ``4 * radius + 1``: the two box passes reach ``2 * radius``
    and the border reflection another ``2 * radius``; 12 MP: 17 -> ~5 ms."""
    from alphacut.core.mask import guided_coefficients

    kernel = np.ones((3, 3), np.uint8)
    changes = (cv2.dilate(alpha, kernel) != cv2.erode(alpha, kernel)).astype(np.uint8)
    box = _padded_box(changes, 4 * radius + 1)
    out = np.empty((2, *alpha.shape), np.float32)
    out[0] = 0.0
    out[1] = alpha
    if box is not None:
        out[0][box], out[1][box] = guided_coefficients(np.ascontiguousarray(guide[box]),
                                                       np.ascontiguousarray(alpha[box]),
                                                       radius, eps)
    return out
