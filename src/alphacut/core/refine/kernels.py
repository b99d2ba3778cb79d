"""The compiled refine kernels (``_kernels.c``, ``_band.c``, ``_cg.c``), if this install has them.

``pip install`` builds them where a C compiler is found (setup.py: an optional extension);
without them the refine step takes its numpy/OpenCV path, which gives the same cut-out: the
band's matrix to the bit, the matte to a rounding (the compiled CG sums its dot products in
float64; 27 alphamatting + 40 ECSSD photos: largest change 0.011, mean 6e-7) and the colours
within a level. ``ALPHACUT_KERNELS=0`` turns them off (to compare the paths).
They are loaded with ctypes, which releases the GIL during each call, so tiles still run on
both cores; a call costs a few microseconds, against a tile's milliseconds.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
U8 = npt.NDArray[np.uint8]
Taps = tuple[npt.NDArray[np.integer], npt.NDArray[np.integer], F32, F32]

ABI_VERSION = 3  # _kernels.h's AC_ABI_VERSION
_P = ctypes.c_void_p
_N = ctypes.c_ssize_t
_INT = ctypes.c_int
_TAPS = [_P] * 8
_UPSAMPLE = [_P, _N, _N, *_TAPS, _INT, _INT, _P, _N, _P, _N, _P, _N, ctypes.c_float,
             ctypes.c_float]
_FOREGROUND = [_P, _N, _N, *_TAPS, _INT, _INT, _P, _N, _P, _N, _P, _N, _P, _N]
_WINDOW_TERMS = [_P, _N, _P, _N, _N, _N, ctypes.c_double, ctypes.c_double, _P]
_GATHER_ROWS = [_P, _P, _P, _N, _N, _N, _P, _N]
_BAND_ROWS = [_P, _N, _P, _N, _P, _N, _INT, _INT, ctypes.c_float, _P, _P, _P, _P, _P]
_PCG = [_P, _P, _N, _P, _P, _P, _INT, ctypes.c_double, _INT]
_SIGNATURES = {"ac_pcg": (_PCG, ctypes.c_int),
               "ac_band_rows": (_BAND_ROWS, ctypes.c_ssize_t),
               "ac_upsample_tile": (_UPSAMPLE, ctypes.c_int),
               "ac_foreground_tile": (_FOREGROUND, ctypes.c_int),
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


def upsample_tile(coefficients: F32, rows: Taps, cols: Taps, rgb: U8, out: F32,
                  band: tuple[U8, float, float] | None = None) -> None:
    """``out`` ``float32 (th, tw)`` = clip(a * gray + b, 0, 1), with ``a``/``b`` sampled
    bilinearly from ``coefficients`` ``float32 (2, h, w)`` (C-contiguous) through the tile's
    taps, gray that of ``rgb`` ``uint8 (th, tw, 3)`` (OpenCV's RGB2GRAY / 255, as
    ``mask.to_gray``). ``band``: ``(map, low, high)``, the tile's ``uint8 (th, tw)`` map set
    to 255 where ``low < alpha < high`` (float32 levels), else 0, in the same pass."""
    lib = library()
    assert lib is not None and coefficients.flags.c_contiguous
    taps, keep = _tap_args(rows, cols)
    th, tw = out.shape
    _, h, w = coefficients.shape
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    mask, low, high = (None, 0.0, 0.0) if band is None else band
    status = lib.ac_upsample_tile(coefficients.ctypes.data, h * w, w, *taps, th, tw,
                                  gray.ctypes.data, _row_stride(gray), out.ctypes.data,
                                  _row_stride(out), None if mask is None else mask.ctypes.data,
                                  0 if mask is None else _row_stride(mask), low, high)
    del keep
    if status != 0:
        raise MemoryError("refine kernel: out of memory")


def foreground_tile(means: F32, rows: Taps, cols: Taps, photo: U8, alpha: F32, soft: U8,
                    out: U8) -> None:
    """Blur-fusion's last step at ``soft``'s set pixels of a tile: ``out`` ``uint8 (th, tw,
    3)`` = round(clip(fg + a (I - bg - a (fg - bg)), 0, 255)), with ``fg``/``bg`` planes 0..2
    and 3..5 of ``means`` ``float32 (6, h, w)`` (C-contiguous, 0..255) sampled through the
    taps, ``I`` = ``photo`` ``uint8 (th, tw, 3)``, ``a`` = ``alpha`` ``float32 (th, tw)``."""
    lib = library()
    assert lib is not None and means.flags.c_contiguous
    taps, keep = _tap_args(rows, cols)
    th, tw = alpha.shape
    _, h, w = means.shape
    photo, alpha, soft = _readable(photo), _readable(alpha), _readable(soft)
    status = lib.ac_foreground_tile(means.ctypes.data, h * w, w, *taps, th, tw,
                                    photo.ctypes.data, _row_stride(photo), alpha.ctypes.data,
                                    _row_stride(alpha), soft.ctypes.data, _row_stride(soft),
                                    out.ctypes.data, _row_stride(out))
    del keep
    if status != 0:
        raise MemoryError("refine kernel: out of memory")


def window_terms(planes: F32, base: npt.NDArray[np.intp], span: tuple[int, int], width: int,
                 eps: float, terms: F32) -> None:
    """``laplacian.pair_terms`` of the windows ``base[span[0]:span[1]]`` (flat centres in a
    frame ``width`` wide; ``planes`` ``float32 (3, pixels)`` C-contiguous) written into their
    rows of ``terms`` ``float32 (M + 1, 45)`` (C-contiguous: the transpose of the numpy
    path's layout, a window's entries side by side), bit for bit."""
    lib = library()
    assert lib is not None and planes.flags.c_contiguous and terms.flags.c_contiguous
    assert base.dtype == np.int64 and base.flags.c_contiguous
    lib.ac_window_terms(planes.ctypes.data, planes.shape[1], base.ctypes.data, span[0],
                        span[1], width, eps, (eps / 9.0) ** 3, terms.ctypes.data)


def gather_rows(terms: F32, window_ids: I32, pixels: npt.NDArray[np.intp], span: tuple[int, int],
                width: int, stencil: F32) -> None:
    """``laplacian._gather_rows`` of ``pixels[span[0]:span[1]]`` written into those columns of
    ``stencil`` ``float32 (25, n)``, bit for bit (all arrays C-contiguous; ``terms`` as
    :func:`window_terms` leaves it, its last row zeros)."""
    lib = library()
    assert lib is not None and all(a.flags.c_contiguous for a in (terms, window_ids, pixels,
                                                                   stencil))
    assert pixels.dtype == np.int64 and window_ids.dtype == np.int32
    lib.ac_gather_rows(terms.ctypes.data, window_ids.ctypes.data,
                       pixels.ctypes.data, span[0], span[1], width, stencil.ctypes.data,
                       stencil.shape[1])


def band_rows(stencil: F32, unknown: npt.NDArray[np.bool_], known: F32, lam: float
              ) -> tuple[I32, F32, npt.NDArray[np.int64], F32, F32]:
    """The band system's rows from ``stencil`` ``float32 (25, n)`` for the ``n`` pixels of
    ``unknown`` ``bool (h, w)`` (raster order), with ``known`` ``float32 (h, w)`` alpha: the
    CSR ``cols`` ``int32 (n, 25)`` and ``vals`` ``float32 (n, 25)`` (diagonal + ``lam``); the
    rim, the rows with a neighbour outside the band (``int64 (m,)``), and for each the
    stencil entries towards those neighbours and the neighbours' alpha (``float32 (m, 25)``
    each, zeros elsewhere), whose row sums are the right-hand side's known part. As
    ``laplacian.band_system``'s numpy path, bit for bit."""
    lib = library()
    assert lib is not None and stencil.flags.c_contiguous
    n = stencil.shape[1]
    h, w = unknown.shape
    cols = np.empty((n, 25), np.int32)
    vals = np.empty((n, 25), np.float32)
    rim = np.empty(n, np.int64)
    outside, fixed = np.empty((n, 25), np.float32), np.empty((n, 25), np.float32)  # only the
    mask = _readable(unknown.view(np.uint8))  # rim's rows are written (and paged in)
    known = _readable(np.asarray(known, np.float32))
    rims = lib.ac_band_rows(stencil.ctypes.data, n, mask.ctypes.data, _row_stride(mask),
                            known.ctypes.data, _row_stride(known), h, w, lam, cols.ctypes.data,
                            vals.ctypes.data, rim.ctypes.data, outside.ctypes.data,
                            fixed.ctypes.data)
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
    lib = library()
    arrays = (cols, vals, b, x, inv_diag)
    assert lib is not None and all(a.flags.c_contiguous for a in arrays)
    assert cols.dtype == np.int32 and all(a.dtype == np.float32 for a in arrays[1:])
    n = x.shape[0]
    assert cols.size == vals.size == 25 * n and b.size == inv_diag.size == n
    steps = lib.ac_pcg(cols.ctypes.data, vals.ctypes.data, n, b.ctypes.data, x.ctypes.data,
                       inv_diag.ctypes.data, iters, tol, threads)
    if steps < 0:
        raise MemoryError("refine kernel: out of memory")
    return int(steps)
