"""The band's linear system: closed-form matting Laplacian rows of the unknown pixels only.

Levin et al.'s matting Laplacian ("A Closed-Form Solution to Natural Image Matting", PAMI
2008) of 3x3 colour windows, built for the windows that touch the band and kept only for the
rows the solve uses (the unknown pixels), as a 25-offset stencil: per window, the colour
covariance is inverted in float64 (stable where colours are nearly collinear) and the 45 pair
terms are formed in float32; the windows are split between the two cores.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from alphacut.core.refine.tiles import refine_threads, run_tiles

if TYPE_CHECKING:
    import scipy.sparse as sp

BoolMap = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

WINDOW = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # 3x3 window offsets
PAIRS = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]  # covariance entries, in order
SPLIT_ROWS = 20000  # windows (stencil) or rows (solve) above which the work is split


def offset_index(dy: int, dx: int) -> int:
    """Index ``k`` of offset ``(dy, dx)`` in the 5x5 stencil: ``(dy + 2) * 5 + dx + 2``."""
    return (dy + 2) * 5 + dx + 2


def window_statistics(image: F32, eps: float) -> F64:
    """Per pixel, the colour mean and regularised covariance of the 3x3 window centred there:
    ``float64 (9, h, w)``, planes ``mean r, g, b`` then ``cov rr, rg, rb, gg, gb, bb`` (the
    diagonal plus ``eps / 9``).

    ``image``: ``float32 (h, w, 3)`` in [0, 1]. Box sums by OpenCV in float64 (``E[ab] -
    E[a] E[b]`` keeps about 1e-14: far below the ``eps / 9`` regulariser). Values on the
    border row and column are not meaningful (no window is centred there).
    """
    h, w = image.shape[:2]
    planes = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float64)
    stats = np.empty((9, h, w), np.float64)

    def box(src: F64, dst: F64) -> None:
        cv2.boxFilter(src, cv2.CV_64F, (3, 3), dst=dst, normalize=True,
                      borderType=cv2.BORDER_REPLICATE)

    for a in range(3):
        box(planes[a], stats[a])
    for slot, (a, b) in enumerate(PAIRS, start=3):
        box(planes[a] * planes[b], stats[slot])
        stats[slot] -= stats[a] * stats[b]
        if a == b:
            stats[slot] += eps / 9.0
    return stats


def window_terms(colours: F32, stats: F64, eps: float) -> tuple[F32, F32]:
    """Per window: the centred colours ``x`` and ``y = (cov + eps/9 I)^-1 x``.

    ``colours``: ``float32 (9, 3, M)`` (window pixel, channel, window) in [0, 1]; ``stats``:
    ``float64 (9, M)``, the windows' :func:`window_statistics`. The 3x3 inverse is formed in
    float64 (stable where colours are nearly collinear), applied in float32. Returns ``x`` and
    ``y``, ``float32 (9, 3, M)`` each.
    """
    c00, c01, c02, c11, c12, c22 = stats[3:]
    i00 = c11 * c22 - c12 * c12
    i01 = c02 * c12 - c01 * c22
    i02 = c01 * c12 - c02 * c11
    i11 = c00 * c22 - c02 * c02
    i12 = c02 * c01 - c00 * c12
    i22 = c00 * c11 - c01 * c01
    inv_det = 1.0 / np.maximum(c00 * i00 + c01 * i01 + c02 * i02, (eps / 9.0) ** 3)
    inverse = [(i * inv_det).astype(np.float32) for i in (i00, i01, i02, i11, i12, i22)]
    rows = [[inverse[0], inverse[1], inverse[2]], [inverse[1], inverse[3], inverse[4]],
            [inverse[2], inverse[4], inverse[5]]]
    x = colours - stats[:3].astype(np.float32)
    y = np.empty(x.shape, np.float32)
    for a in range(3):
        row = rows[a]
        out = y[:, a]
        np.multiply(row[0], x[:, 0], out=out)
        out += row[1] * x[:, 1]
        out += row[2] * x[:, 2]
    return x, y


def _chunk_rows(planes: F32, stats: F64, base: Ints, width: int,
                row_ids: npt.NDArray[np.int32], eps: float, rows: int) -> F64:
    """Stencil rows ``float64 (25, rows + 1)`` summed over the windows centred at ``base``
    (flat crop indices); contributions to pixels that are not rows go to the last bin."""
    index = [base + dy * width + dx for dy, dx in WINDOW]
    colours = np.stack([planes[:, idx] for idx in index])  # (9, 3, M)
    x, y = window_terms(colours, stats[:, base], eps)
    owners = [row_ids[idx] for idx in index]
    targets: list[list[npt.NDArray[np.int32]]] = [[] for _ in range(25)]
    values: list[list[F32]] = [[] for _ in range(25)]
    for i, (dyi, dxi) in enumerate(WINDOW):
        g = y[i, 0] * x[i:, 0]
        g += y[i, 1] * x[i:, 1]
        g += y[i, 2] * x[i:, 2]
        g += 1.0
        g *= np.float32(-1.0 / 9.0)  # (delta_ij - 1 - y_i . x_j) / 9, delta added below
        g[0] += 1.0
        for j in range(i, 9):
            dyj, dxj = WINDOW[j]
            k = offset_index(dyj - dyi, dxj - dxi)
            targets[k].append(owners[i])
            values[k].append(g[j - i])
            if j != i:
                targets[24 - k].append(owners[j])
                values[24 - k].append(g[j - i])
    out = np.zeros((25, rows + 1), np.float64)
    for k in range(25):
        if targets[k]:
            out[k] = np.bincount(np.concatenate(targets[k]), np.concatenate(values[k]),
                                 minlength=rows + 1)
    return out


def band_stencil(image: F32, unknown: BoolMap, eps: float) -> F32:
    """Laplacian rows of the unknown pixels: ``float32 (25, n)``, ``n = unknown.sum()`` in
    raster order; entry ``[k, r]`` is ``L[p, p + d]`` for row ``r``'s pixel ``p`` and offset
    ``d = (k // 5 - 2, k % 5 - 2)``.

    ``image``: ``float32 (h, w, 3)`` in [0, 1]; ``unknown``: ``bool (h, w)``. Every window
    touching an unknown pixel counts, except those centred on the border row/column.
    """
    h, w = unknown.shape
    centres = cv2.dilate(unknown.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    centres[0, :] = centres[-1, :] = False
    centres[:, 0] = centres[:, -1] = False
    flat_unknown = np.flatnonzero(unknown)
    n = flat_unknown.size
    row_ids = np.full(h * w, n, np.int32)
    row_ids[flat_unknown] = np.arange(n, dtype=np.int32)
    planes = np.ascontiguousarray(image.reshape(-1, 3).T)  # (3, h * w)
    stats = window_statistics(image, eps).reshape(9, -1)
    base = np.flatnonzero(centres)
    parts = np.array_split(base, refine_threads()) if base.size > SPLIT_ROWS else [base]
    sums: list[F64] = [np.empty(0)] * len(parts)

    def work(i: int) -> None:
        sums[i] = _chunk_rows(planes, stats, parts[i], w, row_ids, eps, n)

    run_tiles(work, range(len(parts)))
    total = sums[0]
    for extra in sums[1:]:
        total += extra
    return total[:, :n].astype(np.float32)


def band_system(stencil: F32, unknown: BoolMap, known: F32, prior: F32, lam: float
                ) -> tuple[sp.csr_matrix, F32, F32]:
    """The band's system ``(L_UU + lam I) x = lam prior_U - L_UK known_K``.

    ``stencil`` from :func:`band_stencil`; ``unknown`` ``bool (h, w)``; ``known``/``prior``
    ``float32 (h, w)``. Returns the CSR matrix (``n x n``), the right-hand side and the
    diagonal (``float32 (n,)`` each).
    """
    import scipy.sparse as sp  # ~0.15 s to import: only when a band is solved

    h, w = unknown.shape
    pw = w + 4
    ids = np.full((h + 4, pw), -1, np.int32)  # int32: what scipy keeps (no index copy)
    n = stencil.shape[1]
    ids[2:-2, 2:-2][unknown] = np.arange(n)
    fixed = np.zeros((h + 4, pw), np.float32)
    fixed[2:-2, 2:-2] = np.where(unknown, 0.0, known)
    ids, fixed = ids.ravel(), fixed.ravel()
    pixels = np.flatnonzero(ids >= 0)
    rhs = lam * prior[unknown].astype(np.float32)
    cols = np.empty((n, 25), np.int32)
    for k in range(25):
        step = (k // 5 - 2) * pw + k % 5 - 2
        cols[:, k] = ids[pixels + step]
        rhs -= stencil[k] * fixed[pixels + step]
    vals = np.ascontiguousarray(stencil.T)
    vals[:, 12] += lam  # the diagonal (offset 0): the pull towards the prior
    # CSR straight away: offsets in ascending k are ascending columns, none repeated
    in_band = cols >= 0
    indptr = np.zeros(n + 1, np.int32)
    np.cumsum(in_band.sum(axis=1), out=indptr[1:])
    system = sp.csr_matrix((vals[in_band], cols[in_band], indptr), shape=(n, n))
    return system, rhs, vals[:, 12].copy()


def pcg(a: sp.csr_matrix, b: F32, x: F32, inv_diag: F32, iters: int, tol: float
        ) -> tuple[F32, int]:
    """Jacobi-preconditioned conjugate gradients on ``a x = b`` from ``x`` (updated in place),
    in float32 (half the memory traffic of float64; the answer is needed to about 1e-3 only).
    Returns ``x`` and the number of steps taken.

    Written without BLAS calls: a multithreaded OpenBLAS dot on a busy CPU can take
    milliseconds instead of microseconds. The matrix-vector product of a large band is split
    by rows between :func:`refine_threads` threads (scipy's kernel releases the GIL).
    """
    with ThreadPoolExecutor(1) if _split(a) else nullcontext() as pool:
        product = _row_split_product(a, pool)
        r = b - product(x)
        z = r * inv_diag
        p = z.copy()
        scratch = np.empty_like(b)
        rz = float((r * z).sum())
        stop = tol * (float(np.sqrt((b * b).sum())) or 1.0)
        steps = 0
        for steps in range(1, iters + 1):  # noqa: B007 (the count is returned)
            ap = product(p)
            step = rz / float(np.multiply(p, ap, out=scratch).sum())
            x += np.multiply(p, step, out=scratch)
            r -= np.multiply(ap, step, out=scratch)
            if float(np.sqrt(np.multiply(r, r, out=scratch).sum())) < stop:
                break
            np.multiply(r, inv_diag, out=z)
            rz_next = float(np.multiply(r, z, out=scratch).sum())
            p *= rz_next / rz
            p += z
            rz = rz_next
    return x, steps


def _split(a: sp.csr_matrix) -> bool:
    """Whether ``a``'s products are worth splitting between two threads."""
    return refine_threads() > 1 and a.shape[0] > SPLIT_ROWS


def _row_split_product(a: sp.csr_matrix, pool: ThreadPoolExecutor | None
                       ) -> Callable[[F32], F32]:
    """``v -> a @ v``; with a ``pool``, the second half of the rows runs on it meanwhile."""
    if pool is None:
        return lambda v: a @ v  # type: ignore[no-any-return]
    half = a.shape[0] // 2
    top, bottom = a[:half], a[half:]
    out = np.empty(a.shape[0], np.float32)

    def product(v: F32) -> F32:
        later = pool.submit(bottom.__matmul__, v)
        out[:half] = top @ v
        out[half:] = later.result()
        return out

    return product
