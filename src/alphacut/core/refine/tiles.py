"""Tiles for the refine step: work only where alpha is uncertain, on both cores.

A 12 MP photo's uncertain band covers a fraction of the frame, so the refine step's
full-resolution passes run tile by tile over the tiles that hold band pixels, each with a halo
for its filters, with temporaries small enough to stay in cache (and no page faults on fresh
full-frame arrays). Bilinear upsampling of a small map is computed per window with OpenCV's
own ``INTER_LINEAR`` sample positions and weights, so a window equals the same crop of the
full ``cv2.resize`` to within a float32 rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

T = TypeVar("T")
F32 = npt.NDArray[np.float32]
BoolMap = npt.NDArray[np.bool_]

THREADS = 2  # numpy and OpenCV release the GIL, so tiles run on both cores
_LIMIT: ContextVar[int | None] = ContextVar("alphacut_refine_threads", default=None)


def refine_threads() -> int:
    """Threads the refine step may use on the calling thread: ``THREADS``, or fewer inside
    :func:`limited_threads`."""
    limit = _LIMIT.get()
    return THREADS if limit is None else max(1, min(THREADS, limit))


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Within the block, the refine step on this thread uses at most ``threads`` threads
    (e.g. 1 in a batch, where the model already keeps every core busy)."""
    token = _LIMIT.set(threads)
    try:
        yield
    finally:
        _LIMIT.reset(token)


@dataclass(frozen=True)
class Window:
    """One tile: the rows/cols computed on (tile plus halo, clipped to the frame), the tile's
    own rows/cols inside that window (``inner``) and in the frame (``target``)."""

    rows: slice
    cols: slice
    inner: tuple[slice, slice]
    target: tuple[slice, slice]


@dataclass(frozen=True)
class TileMap:
    """Which ``tile`` x ``tile`` tiles of a frame (counted from its top-left corner) hold
    pixels of interest: ``active`` ``bool (ceil(H / tile), ceil(W / tile))``; ``pixels``:
    the pixels themselves, ``uint8 (H, W)`` 255/0, where whoever filled the map found them
    too (else None)."""

    tile: int
    active: BoolMap
    pixels: npt.NDArray[np.uint8] | None = None

    @classmethod
    def empty(cls, shape: tuple[int, int], tile: int, *, pixels: bool = False) -> TileMap:
        """No tile set yet, for a frame of ``shape`` ``(H, W)`` (and no pixel, if kept)."""
        active = np.zeros((-(-shape[0] // tile), -(-shape[1] // tile)), np.bool_)
        return cls(tile, active, np.zeros(shape, np.uint8) if pixels else None)

    def slices(self, shape: tuple[int, int]) -> list[tuple[slice, slice]]:
        """The frame rows/cols of each set tile (clipped to ``shape``), in raster order."""
        size = self.tile
        return [(slice(int(ty) * size, min(shape[0], (int(ty) + 1) * size)),
                 slice(int(tx) * size, min(shape[1], (int(tx) + 1) * size)))
                for ty, tx in zip(*np.nonzero(self.active), strict=True)]


def tile_windows(shape: tuple[int, int], tile: int, halo: int,
                 active: BoolMap | None = None) -> list[Window]:
    """Windows of the ``tile`` x ``tile`` tiles of a frame of ``shape`` (all of them, or those
    where the tile-level map ``active`` ``bool (ceil(h / tile), ceil(w / tile))`` is set),
    each grown by ``halo`` pixels on every side (clipped to the frame)."""
    height, width = shape
    ny, nx = -(-height // tile), -(-width // tile)
    hits = np.ones((ny, nx), np.bool_) if active is None else active
    windows = []
    for ty, tx in zip(*np.nonzero(hits), strict=True):
        y0, x0 = int(ty) * tile, int(tx) * tile
        y1, x1 = min(height, y0 + tile), min(width, x0 + tile)
        r0, c0 = max(0, y0 - halo), max(0, x0 - halo)
        r1, c1 = min(height, y1 + halo), min(width, x1 + halo)
        windows.append(Window(slice(r0, r1), slice(c0, c1),
                              (slice(y0 - r0, y1 - r0), slice(x0 - c0, x1 - c0)),
                              (slice(y0, y1), slice(x0, x1))))
    return windows


def run_tiles(fn: Callable[[T], None], items: Iterable[T], threads: int | None = None) -> None:
    """``fn(item)`` for every item, on ``threads`` threads (default :func:`refine_threads`;
    items must write disjoint pixels)."""
    items = list(items)
    run_streamed(fn, items, 1 if len(items) <= 1 else threads)


def run_streamed(fn: Callable[[T], None], items: Iterable[T], threads: int | None = None
                 ) -> None:
    """``fn(item)`` for every item, the items drawn on the calling thread (a generator that
    sorts tiles, say) and each handed at once to one of ``threads`` helper threads (default
    :func:`refine_threads`), so the work starts while the rest is still being sorted; items
    must write disjoint pixels. On one thread, in turn."""
    threads = refine_threads() if threads is None else threads
    if threads <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(fn, item) for item in items]
        for future in futures:
            future.result()


def _taps(src: int, dst: int, start: int, stop: int, scale: float | None = None
          ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], F32, F32]:
    """``cv2.resize`` ``INTER_LINEAR`` taps for destination indices ``start..stop-1`` of a
    ``src`` -> ``dst`` axis: the two source indices and their float32 weights. ``scale``:
    source pixels per destination pixel (default ``src / dst``, cv2.resize's)."""
    ratio = src / dst if scale is None else scale
    pos = (np.arange(start, stop, dtype=np.float64) + 0.5) * ratio - 0.5
    first = np.floor(pos)
    frac = (pos - first).astype(np.float32)
    first = first.astype(np.intp)
    below, above = first < 0, first >= src - 1
    frac[below | above] = 0.0
    first[below] = 0
    first[above] = src - 1
    return first, np.minimum(first + 1, src - 1), 1.0 - frac, frac


def footprint(src: int, dst: int, span: slice) -> slice:
    """The source indices that ``cv2.resize`` ``INTER_LINEAR`` reads for destination
    ``span`` of a ``src`` -> ``dst`` axis."""
    first, second, _, _ = _taps(src, dst, span.start, span.stop)
    return slice(int(first.min()), int(second.max()) + 1)


class AxisTaps:
    """The ``cv2.resize`` ``INTER_LINEAR`` taps of a whole ``src`` -> ``dst`` axis, computed
    once and sliced per window (equal to :func:`_taps` of the window; ``scale`` as there)."""

    def __init__(self, src: int, dst: int, scale: float | None = None) -> None:
        self.src = src
        self.first, self.second, self.w0, self.w1 = _taps(src, dst, 0, dst, scale)

    def span(self, span: slice) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], F32, F32]:
        """The taps of destination ``span`` (a plain in-range slice)."""
        return self.first[span], self.second[span], self.w0[span], self.w1[span]

    def footprint(self, span: slice) -> slice:
        """As :func:`footprint`; the taps are monotonic, so the ends give the range."""
        return slice(int(self.first[span.start]), int(self.second[span.stop - 1]) + 1)


def in_background(job: Callable[[], T]) -> Callable[[], T]:
    """``job`` started now on a helper thread when the refine step may use more than one
    (:func:`refine_threads`), else run when asked; returns the call that gives its result.
    For a memory copy that can overlap the band solve, whose steps leave a core idle."""
    if refine_threads() <= 1:
        return job
    pool = ThreadPoolExecutor(1)
    future = pool.submit(job)
    pool.shutdown(wait=False)
    return future.result


def run_jobs(jobs: list[Callable[[], T]]) -> list[T]:
    """Each of ``jobs`` called once, the first ones on helper threads when the refine step
    may use more than one (:func:`refine_threads`), the last on this thread; their results
    in order. For independent OpenCV/numpy steps, which release the GIL."""
    if refine_threads() <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(min(len(jobs) - 1, refine_threads())) as pool:
        futures = [pool.submit(job) for job in jobs[:-1]]
        last = jobs[-1]()
        return [f.result() for f in futures] + [last]


def resize_window(small: F32, size: tuple[int, int], rows: slice, cols: slice, *,
                  taps: tuple[AxisTaps, AxisTaps] | None = None,
                  origin: tuple[int, int] = (0, 0)) -> F32:
    """``cv2.resize(small, (W, H), interpolation=INTER_LINEAR)[rows, cols]`` without the
    full-size array, for ``small`` ``float32 (p, h, w)`` (planes resized alike); ``size`` =
    ``(H, W)``; ``rows``/``cols`` plain in-range slices; ``taps``: the axes' taps of this
    ``small`` -> ``size`` resize, if made already; ``origin``: where ``small`` starts in the
    source the taps index (``small`` a crop holding the window's source pixels). Returns
    ``float32 (p, h', w')``.

    Horizontal pass, then vertical, as OpenCV does; each gathers whole rows of a transposed
    copy of the few source pixels involved (no BLAS: its threads stall a busy machine).
    """
    height, width = size
    if taps is None:
        y0, y1, wy0, wy1 = _taps(small.shape[-2], height, rows.start, rows.stop)
        x0, x1, wx0, wx1 = _taps(small.shape[-1], width, cols.start, cols.stop)
    else:
        (y0, y1, wy0, wy1), (x0, x1, wx0, wx1) = taps[0].span(rows), taps[1].span(cols)
    ylo, xlo = int(y0[0]), int(x0[0])
    band = np.ascontiguousarray(small[:, ylo - origin[0]:int(y1[-1]) + 1 - origin[0],
                                      xlo - origin[1]:int(x1[-1]) + 1 - origin[1]
                                      ].transpose(0, 2, 1))
    horiz = np.take(band, x0 - xlo, axis=1) * wx0[:, None]
    horiz += np.take(band, x1 - xlo, axis=1) * wx1[:, None]
    horiz = np.ascontiguousarray(horiz.transpose(0, 2, 1))  # (p, source rows, w')
    out = np.take(horiz, y0 - ylo, axis=1) * wy0[:, None]
    out += np.take(horiz, y1 - ylo, axis=1) * wy1[:, None]
    return out


def resize_exact(small: F32, factor: int, rows: slice, cols: slice) -> F32:
    """:func:`resize_window` for an exact integer upscale (the taps of scale ``1 / factor``):
    ``float32 (p, h', w')`` of the ``factor``-times larger map at ``rows``/``cols`` (plain
    slices; past ``factor`` times ``small``'s size they repeat its last row/column, as the
    taps clamp). Each plane's crop (one source pixel of margin) goes through ``cv2.resize``,
    whose sample positions are then the whole map's: a tenth of the numpy gather's cost."""
    _, h, w = small.shape
    (r0, r1), (c0, c1) = _exact_crop(rows, h, factor), _exact_crop(cols, w, factor)
    out_r = slice(rows.start - r0 * factor, rows.stop - r0 * factor)
    out_c = slice(cols.start - c0 * factor, cols.stop - c0 * factor)
    short = (max(0, out_r.stop - (r1 - r0) * factor), max(0, out_c.stop - (c1 - c0) * factor))
    out = np.empty((small.shape[0], rows.stop - rows.start, cols.stop - cols.start), np.float32)
    for plane, dst in zip(small, out, strict=True):
        up = cv2.resize(plane[r0:r1, c0:c1], ((c1 - c0) * factor, (r1 - r0) * factor),
                        interpolation=cv2.INTER_LINEAR)
        if short != (0, 0):
            up = cv2.copyMakeBorder(up, 0, short[0], 0, short[1], cv2.BORDER_REPLICATE)
        dst[...] = up[out_r, out_c]
    return out


def _exact_crop(span: slice, size: int, factor: int) -> tuple[int, int]:
    """The source rows (or columns) an exact ``factor`` upscale reads for ``span``, with one
    of margin where the source goes on."""
    return max(0, span.start // factor - 1), min(size, -(-span.stop // factor) + 1)
