"""The compiled refine kernels (``_kernels.c``, ``_band.c``, ``_cg.c``, ``_pool.c``), if built.

``pip install`` builds them where a C compiler is found (setup.py: an optional extension);
without them the refine step takes its numpy/OpenCV path, which gives the same cut-out: the
band's matrix to the bit, the matte to a rounding (the compiled CG sums its dot products in
float64; 27 alphamatting + 40 ECSSD photos: largest change 0.011, mean 6e-7) and the colours
within a level. ``ALPHACUT_KERNELS=0`` turns them off (to compare the paths).
They are loaded with ctypes, which releases the GIL during each call; the tiled kernels take
a whole frame (or box) per call and spread its tiles over their own threads.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from alphacut.core.refine.tiles import AxisTaps

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
Taps = tuple[npt.NDArray[np.integer], npt.NDArray[np.integer], F32, F32]

ABI_VERSION = 5  # _kernels.h's AC_ABI_VERSION
_P = ctypes.c_void_p
_N = ctypes.c_ssize_t
_INT = ctypes.c_int
_TAPS = [_P] * 8
_UPSAMPLE = [_P, _N, _N, *_TAPS, _INT, _INT, _INT, _P, _N, _P, _N, _P, _N, _P, ctypes.c_float,
             ctypes.c_float, _INT]
_COLOURS = [_P, _N, _N, *_TAPS, _INT, _INT, _INT, _P, _N, _P, _N, _P, _N, _P, _N, _INT]
_WINDOW_TERMS = [_P, _N, _P, _N, _N, _N, ctypes.c_double, ctypes.c_double, _P]
_GATHER_ROWS = [_P, _P, _P, _N, _N, _N, _P, _N]
_BAND_ROWS = [_P, _N, _P, _N, _P, _N, _INT, _INT, ctypes.c_float, _P, _P, _P, _P, _P, _INT]
_PCG = [_P, _P, _N, _P, _P, _P, _INT, ctypes.c_double, _INT]
_SIGNATURES = {"ac_pcg": (_PCG, ctypes.c_int),
               "ac_band_rows": (_BAND_ROWS, ctypes.c_ssize_t),
               "ac_upsample_frame": (_UPSAMPLE, ctypes.c_int),
               "ac_colours_box": (_COLOURS, ctypes.c_int),
               "ac_window_terms": (_WINDOW_TERMS, None),
               "ac_gather_rows": (_GATHER_ROWS, None)}


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """The built kernels, or None (not built here, or turned off by ``ALPHACUT_KERNELS=0``)."""
    if os.environ.get("ALPHACUT_KERNELS", "1") == "0":
        return None
    spec = importlib.util.find_spec("alphacut.core.refine._kernels")
    if spec is None or spec.origin is None:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
        lib.ac_abi_version.restype = ctypes.c_int
        if lib.ac_abi_version() != ABI_VERSION:
            return None  # built from other sources: rebuild (pip install)
    except (OSError, AttributeError):
        return None
    for name, (argtypes, restype) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = restype
    return lib


def available() -> bool:
    """Whether the compiled kernels run here."""
    return library() is not None


def _tap_args(rows: Taps, cols: Taps) -> tuple[list[int], list[object]]:
    """Pointers to the taps as int32/float32 arrays, and the arrays (kept alive)."""
    arrays = [np.ascontiguousarray(t, np.int32 if i % 4 < 2 else np.float32)
              for i, t in enumerate((*rows, *cols))]
    return [a.ctypes.data for a in arrays], arrays


def _row_stride(a: np.ndarray) -> int:
    """Elements between rows of ``a`` (2-D, or 3-D), whose rows must each be contiguous."""
    if not _rows_contiguous(a):
        raise ValueError("each row must be contiguous")
    return a.strides[0] // a.itemsize


def _rows_contiguous(a: np.ndarray) -> bool:
    """Whether each row of ``a`` (2-D, or 3-D) is one contiguous run, rows ``a.strides[0]``
    apart (a positive multiple of the item size)."""
    inner = a.itemsize * (a.shape[2] if a.ndim == 3 else 1)
    contiguous = a.ndim == 2 or a.strides[2] == a.itemsize or a.shape[2] == 1
    return (contiguous and (a.strides[1] == inner or a.shape[1] == 1)
            and a.strides[0] > 0 and a.strides[0] % a.itemsize == 0)


def _readable(a: np.ndarray) -> np.ndarray:
    """``a``, or a contiguous copy if its rows are not contiguous (a kernel's input)."""
    return a if _rows_contiguous(a) else np.ascontiguousarray(a)


def upsample_frame(coefficients: F32, taps: tuple[AxisTaps, AxisTaps], rgb: U8, out: F32,
                   tile: int, active: npt.NDArray[np.bool_],
                   band: tuple[U8, float, float] | None, threads: int) -> None:
    """Guided upsampling of a whole frame, tile by tile on ``threads`` threads: ``out``
    ``float32 (H, W)`` (zeros) = clip(a * gray + b, 0, 1), ``a``/``b`` sampled bilinearly
    from ``coefficients`` ``float32 (2, h, w)`` through the axes' ``taps``, gray that of
    ``rgb`` ``uint8 (H, W, 3)`` (OpenCV's RGB2GRAY / 255, as ``mask.to_gray``). A tile whose
    coefficients are all ``a = 0, b = c`` is filled with ``c`` (clear ones left as zeros);
    ``active`` ``bool (ceil(H / tile), ceil(W / tile))`` is set at every other tile and at
    constant ones of a soft level. ``band``: ``(map, low, high)``, the ``uint8 (H, W)`` map
    (zeros) set to 255 where ``low < alpha < high`` (float32 levels)."""
    lib = _library_for(coefficients)
    height, width = out.shape
    _check(out.dtype == np.float32, "out")
    _check(rgb.shape == (height, width, 3) and rgb.dtype == np.uint8, "rgb")
    _check(active.shape == (-(-height // tile), -(-width // tile)), "active")
    _check(taps[0].first.shape == (height,) and taps[1].first.shape == (width,), "taps")
    rgb = _readable(rgb)
    pointers, keep = _tap_args(taps[0].span(slice(None)), taps[1].span(slice(None)))
    _, h, w = coefficients.shape
    _check(all(int(t.second.max()) < n for t, n in zip(taps, (h, w), strict=True)), "taps")
    mask, low, high = (None, 0.0, 0.0) if band is None else band
    if mask is not None:
        _check(mask.shape == (height, width) and mask.dtype == np.uint8, "band")
    flags = np.zeros(active.shape, np.uint8)
    status = lib.ac_upsample_frame(
        coefficients.ctypes.data, h * w, w, *pointers, height, width, tile, rgb.ctypes.data,
        _row_stride(rgb), out.ctypes.data, _row_stride(out),
        None if mask is None else mask.ctypes.data, 0 if mask is None else _row_stride(mask),
        flags.ctypes.data, low, high, threads)
    del keep
    active |= flags.astype(np.bool_)
    if status != 0:
        raise MemoryError("refine kernel: out of memory")


def colours_box(means: F32, taps: tuple[AxisTaps, AxisTaps], photo: U8, alpha: F32, soft: U8,
                out: U8, tile: int, threads: int) -> None:
    """Blur-fusion's last step at ``soft``'s set pixels of a box, tile by tile on
    ``threads`` threads: ``out`` ``uint8 (bh, bw, 3)`` = round(clip(fg + a (I - bg - a (fg -
    bg)), 0, 255)), with ``fg``/``bg`` planes 0..2 and 3..5 of ``means`` ``float32 (6, h,
    w)`` (0..255) sampled through the axes' ``taps``, ``I`` = ``photo`` ``uint8 (bh, bw,
    3)``, ``a`` = ``alpha`` ``float32 (bh, bw)``; other pixels are left as they are."""
    lib = _library_for(means)
    height, width = alpha.shape
    _check(photo.shape == out.shape == (height, width, 3), "photo/out")
    _check(soft.shape == (height, width) and soft.dtype == np.uint8, "soft")
    _check(photo.dtype == out.dtype == np.uint8 and alpha.dtype == np.float32, "dtype")
    _check(taps[0].first.shape == (height,) and taps[1].first.shape == (width,), "taps")
    _, h, w = means.shape
    _check(all(int(t.second.max()) < n for t, n in zip(taps, (h, w), strict=True)), "taps")
    photo, alpha, soft = _readable(photo), _readable(alpha), _readable(soft)
    pointers, keep = _tap_args(taps[0].span(slice(None)), taps[1].span(slice(None)))
    status = lib.ac_colours_box(means.ctypes.data, h * w, w, *pointers, height, width, tile,
                                photo.ctypes.data, _row_stride(photo), alpha.ctypes.data,
                                _row_stride(alpha), soft.ctypes.data, _row_stride(soft),
                                out.ctypes.data, _row_stride(out), threads)
    del keep
    if status != 0:
        raise MemoryError("refine kernel: out of memory")


def _library_for(planes: F32) -> ctypes.CDLL:
    """The library, after checking that ``planes`` (a kernel's sampled maps) is a
    C-contiguous ``float32 (p, h, w)`` array."""
    lib = library()
    if lib is None:
        raise RuntimeError("the compiled refine kernels are not available")
    _check(planes.ndim == 3 and planes.flags.c_contiguous and planes.dtype == np.float32,
           "planes")
    return lib


def _check(ok: bool, what: str) -> None:
    """A kernel's argument check: a ValueError (never undefined memory access)."""
    if not ok:
        raise ValueError(f"refine kernel: bad argument ({what})")


def window_terms(planes: F32, base: npt.NDArray[np.intp], span: tuple[int, int], width: int,
                 eps: float, terms: F32) -> None:
    """``laplacian.pair_terms`` of the windows ``base[span[0]:span[1]]`` (flat centres in a
    frame ``width`` wide; ``planes`` ``float32 (3, pixels)`` C-contiguous) written into their
    rows of ``terms`` ``float32 (M + 1, 45)`` (C-contiguous: the transpose of the numpy
    path's layout, a window's entries side by side), bit for bit."""
    lib = _library_for(planes[None])
    _check(terms.flags.c_contiguous and terms.dtype == np.float32 and terms.shape[1] == 45,
           "terms")
    _check(base.dtype == np.int64 and base.flags.c_contiguous, "base")
    _check(0 <= span[0] <= span[1] <= base.shape[0] and terms.shape[0] > span[1] - span[0],
           "span")
    lib.ac_window_terms(planes.ctypes.data, planes.shape[1], base.ctypes.data, span[0],
                        span[1], width, eps, (eps / 9.0) ** 3, terms.ctypes.data)


def gather_rows(terms: F32, window_ids: I32, pixels: npt.NDArray[np.intp], span: tuple[int, int],
                width: int, stencil: F32) -> None:
    """``laplacian._gather_rows`` of ``pixels[span[0]:span[1]]`` written into those columns of
    ``stencil`` ``float32 (25, n)``, bit for bit (all arrays C-contiguous; ``terms`` as
    :func:`window_terms` leaves it, its last row zeros)."""
    lib = _library_for(terms[None])
    _check(all(a.flags.c_contiguous for a in (window_ids, pixels, stencil)), "layout")
    _check(pixels.dtype == np.int64 and window_ids.dtype == np.int32, "dtype")
    _check(stencil.dtype == np.float32 and stencil.shape[0] == 25, "stencil")
    _check(0 <= span[0] <= span[1] <= min(pixels.shape[0], stencil.shape[1]), "span")
    lib.ac_gather_rows(terms.ctypes.data, window_ids.ctypes.data,
                       pixels.ctypes.data, span[0], span[1], width, stencil.ctypes.data,
                       stencil.shape[1])


def band_rows(stencil: F32, unknown: npt.NDArray[np.bool_], known: F32, lam: float,
              threads: int = 1) -> tuple[I32, F32, npt.NDArray[np.int64], F32, F32]:
    """The band system's rows from ``stencil`` ``float32 (25, n)`` for the ``n`` pixels of
    ``unknown`` ``bool (h, w)`` (raster order), with ``known`` ``float32 (h, w)`` alpha: the
    CSR ``cols`` ``int32 (n, 25)`` and ``vals`` ``float32 (n, 25)`` (diagonal + ``lam``); the
    rim, the rows with a neighbour outside the band (``int64 (m,)``), and for each the
    stencil entries towards those neighbours and the neighbours' alpha (``float32 (m, 25)``
    each, zeros elsewhere), whose row sums are the right-hand side's known part. As
    ``laplacian.band_system``'s numpy path, bit for bit, on ``threads`` threads."""
    lib = _library_for(stencil[None])
    n = stencil.shape[1]
    h, w = unknown.shape
    _check(stencil.shape[0] == 25 and unknown.dtype == np.bool_ and known.shape == (h, w),
           "shapes")
    _check(int(np.count_nonzero(unknown)) == n, "unknown")
    cols = np.empty((n, 25), np.int32)
    vals = np.empty((n, 25), np.float32)
    rim = np.empty(n, np.int64)
    outside, fixed = np.empty((n, 25), np.float32), np.empty((n, 25), np.float32)  # only the
    mask = _readable(unknown.view(np.uint8))  # rim's rows are written (and paged in)
    known = _readable(np.asarray(known, np.float32))
    rims = lib.ac_band_rows(stencil.ctypes.data, n, mask.ctypes.data, _row_stride(mask),
                            known.ctypes.data, _row_stride(known), h, w, lam, cols.ctypes.data,
                            vals.ctypes.data, rim.ctypes.data, outside.ctypes.data,
                            fixed.ctypes.data, threads)
    if rims < 0:
        raise MemoryError("refine kernel: out of memory")
    return cols, vals, rim[:rims], outside[:rims], fixed[:rims]


def pcg(cols: I32, vals: F32, b: F32, x: F32, inv_diag: F32, iters: int, tol: float,
        threads: int) -> int:
    """Jacobi-preconditioned conjugate gradients on ``A x = b``, ``A`` given as rows of 25
    CSR entries (``cols`` ``int32 (25 n,)``, ``vals`` ``float32 (25 n,)``), from ``x``
    ``float32 (n,)`` (updated in place), on ``threads`` threads: ``laplacian.pcg``'s steps,
    with float64 dot products over fixed chunks (the same answer on any number of threads).
    Returns the steps taken."""
    lib = _library_for(vals.reshape(1, 1, -1))
    arrays = (cols, vals, b, x, inv_diag)
    _check(all(a.flags.c_contiguous for a in arrays), "layout")
    _check(cols.dtype == np.int32 and all(a.dtype == np.float32 for a in arrays[1:]), "dtype")
    n = x.shape[0]
    _check(cols.size == vals.size == 25 * n and b.size == inv_diag.size == n, "sizes")
    _check(n == 0 or (int(cols.min()) >= 0 and int(cols.max()) < n), "cols")
    steps = lib.ac_pcg(cols.ctypes.data, vals.ctypes.data, n, b.ctypes.data, x.ctypes.data,
                       inv_diag.ctypes.data, iters, tol, threads)
    if steps < 0:
        raise MemoryError("refine kernel: out of memory")
    return int(steps)
