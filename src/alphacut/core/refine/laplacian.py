"""The band's linear system: closed-form matting Laplacian rows of the unknown pixels only.

Levin et al.'s matting Laplacian ("A Closed-Form Solution to Natural Image Matting", PAMI
2008) of 3x3 colour windows, built for the windows that touch the band and kept only for the
rows the solve uses (the unknown pixels), as a 25-offset stencil. Every window's colour mean
and covariance come from its own 9 pixels (centred, float32), for the windows the band needs;
the covariance is inverted in float64 (stable where colours are nearly collinear); the 45
distinct entries of each window (the Laplacian is symmetric) are formed in float32, then each
row gathers its 81 window contributions. Both passes split between the threads the caller
allows (tiles.refine_threads).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from alphacut.core.refine import kernels
from alphacut.core.refine.sparse import CsrMatrix, SplitProduct
from alphacut.core.refine.tiles import refine_threads, run_tiles

BoolMap = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]

WINDOW = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # 3x3 window offsets
PAIRS = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]  # covariance entries, in order
SPLIT_ROWS = 20000  # windows above which the stencil's work is split between threads


def _pair_slots() -> list[list[int]]:
    """``[i][j]``: the row of :func:`pair_terms`' output holding window entry ``(i, j)``
    (symmetric; rows run over ``i <= j`` in raster order)."""
    slots = [[0] * 9 for _ in range(9)]
    slot = 0
    for i in range(9):
        for j in range(i, 9):
            slots[i][j] = slots[j][i] = slot
            slot += 1
    return slots


PAIR_SLOT = _pair_slots()


def offset_index(dy: int, dx: int) -> int:
    """Index ``k`` of offset ``(dy, dx)`` in the 5x5 stencil: ``(dy + 2) * 5 + dx + 2``."""
    return (dy + 2) * 5 + dx + 2


def window_moments(colours: F32, eps: float) -> tuple[F32, F64]:
    """Per window: its centred colours and regularised covariance, from its own 9 pixels.

    ``colours``: ``float32 (9, 3, M)`` (window pixel, channel, window) in [0, 1]. The
    covariance is formed from the centred colours (no ``E[ab] - E[a] E[b]`` cancellation),
    only for the windows the band needs, in float32: a float32 mean is off by ~1e-7, which
    shifts all 9 centred colours alike and the covariance by its square (~1e-14, far below
    the ``eps / 9`` regulariser). Returns ``x = colours - mean`` ``float32 (9, 3, M)`` and
    ``cov + eps/9 I`` as ``float64 (6, M)``, entries ``rr, rg, rb, gg, gb, bb``
    (:data:`PAIRS`), ready for the float64 inverse.
    """
    x = colours - colours.sum(axis=0) * np.float32(1.0 / 9.0)
    cov = np.empty((6, colours.shape[2]), np.float64)
    product = np.empty(x.shape[::2], np.float32)  # (9, M)
    for slot, (a, b) in enumerate(PAIRS):
        np.multiply(x[:, a], x[:, b], out=product)
        cov[slot] = product.sum(axis=0)
    cov *= 1.0 / 9.0
    cov[[0, 3, 5]] += eps / 9.0
    return x, cov


def window_terms(colours: F32, eps: float) -> tuple[F32, F32]:
    """Per window: the centred colours ``x`` and ``y = (cov + eps/9 I)^-1 x``.

    ``colours``: ``float32 (9, 3, M)`` (window pixel, channel, window) in [0, 1]. The
    statistics come from :func:`window_moments`; the 3x3 inverse is formed in float64
    (stable where colours are nearly collinear), applied in float32. Returns ``x`` and
    ``y``, ``float32 (9, 3, M)`` each.
    """
    x, cov = window_moments(colours, eps)
    c00, c01, c02, c11, c12, c22 = cov
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
    y = np.empty(x.shape, np.float32)
    for a in range(3):
        row = rows[a]
        out = y[:, a]
        np.multiply(row[0], x[:, 0], out=out)
        out += row[1] * x[:, 1]
        out += row[2] * x[:, 2]
    return x, y


def pair_terms(planes: F32, base: Ints, width: int, eps: float, out: F32) -> None:
    """The 45 distinct window entries ``L_w[i, j]`` (``i <= j``, rows as
    :data:`PAIR_SLOT`) of the windows centred at ``base`` (flat crop indices), written into
    ``out`` ``float32 (45, base.size)``: ``delta_ij - (1 + y_i . x_j) / 9``."""
    colours = np.empty((9, 3, base.size), np.float32)  # (window pixel, channel, window)
    for i, (dy, dx) in enumerate(WINDOW):
        index = base + dy * width + dx
        for a in range(3):  # one plane at a time: 8x faster than planes[:, index]
            np.take(planes[a], index, out=colours[i, a])
    x, y = window_terms(colours, eps)
    y *= np.float32(-1.0 / 9.0)  # entries -(1 + y_i . x_j) / 9: the scale folded into y
    part = np.empty((9, base.size), np.float32)  # one temporary for every row block
    first = 0
    for i in range(9):
        g, tmp = out[first:first + 9 - i], part[:9 - i]
        np.multiply(y[i, 0], x[i:, 0], out=g)
        g += np.multiply(y[i, 1], x[i:, 1], out=tmp)
        g += np.multiply(y[i, 2], x[i:, 2], out=tmp)
        g -= np.float32(1.0 / 9.0)
        g[0] += 1.0
        first += 9 - i


def _gather_rows(terms: F32, window_ids: npt.NDArray[np.int32], pixels: Ints, width: int
                 ) -> F32:
    """Stencil rows ``float32 (25, len(pixels))`` of the row pixels ``pixels`` (flat crop
    indices): each entry sums the window entries of the windows holding both pixels, read
    from ``terms`` ``float32 (45, M + 1)`` through ``window_ids`` (flat index of the crop
    padded by one pixel -> window column, ``M`` (zeros) where no window is centred);
    ``pixels`` and ``width`` are in that padded frame."""
    out = np.zeros((25, pixels.size), np.float32)
    part = np.empty(pixels.size, np.float32)
    for i, (dyi, dxi) in enumerate(WINDOW):
        # the window where p sits at i; intp indices: numpy gathers twice as fast with them
        holder = window_ids[pixels - (dyi * width + dxi)].astype(np.intp)
        for j, (dyj, dxj) in enumerate(WINDOW):
            np.take(terms[PAIR_SLOT[i][j]], holder, out=part)
            out[offset_index(dyj - dyi, dxj - dxi)] += part
    return out


def band_stencil(image: F32, unknown: BoolMap, eps: float) -> F32:
    """Laplacian rows of the unknown pixels: ``float32 (25, n)``, ``n = unknown.sum()`` in
    raster order; entry ``[k, r]`` is ``L[p, p + d]`` for row ``r``'s pixel ``p`` and offset
    ``d = (k // 5 - 2, k % 5 - 2)``.

    ``image``: ``float32 (h, w, 3)`` in [0, 1]; ``unknown``: ``bool (h, w)``. Every window
    touching an unknown pixel counts, except those centred on the border row/column. The
    45 distinct entries of each window are formed once (the matrix is symmetric), then
    every row gathers its 81 window contributions; both passes split between the threads.
    """
    h, w = unknown.shape
    centres = cv2.dilate(unknown.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    centres[0, :] = centres[-1, :] = False
    centres[:, 0] = centres[:, -1] = False
    base = np.flatnonzero(centres)
    m = base.size
    window_ids = np.full((h + 2, w + 2), m, np.int32)  # padded: a row pixel's windows
    window_ids[1:-1, 1:-1].flat[base] = np.arange(m, dtype=np.int32)  # are all in it
    planes = np.ascontiguousarray(image.reshape(-1, 3).T)  # (3, h * w)
    fused = kernels.available()
    terms = np.empty((m + 1, 45) if fused else (45, m + 1), np.float32)  # kernels: by window
    if fused:
        terms[m] = 0.0
    else:
        terms[:, m] = 0.0
    threads = refine_threads() if m > SPLIT_ROWS else 1
    spans = np.array_split(np.arange(m + 1), threads)

    def windows(span: Ints) -> None:
        stop = min(int(span[-1]) + 1, m)
        if fused:
            kernels.window_terms(planes, base, (int(span[0]), stop), w, eps, terms)
            return
        block = np.empty((45, stop - int(span[0])), np.float32)
        pair_terms(planes, base[int(span[0]):stop], w, eps, block)
        terms[:, int(span[0]):stop] = block

    run_tiles(windows, spans, threads)
    pixels = np.flatnonzero(np.pad(unknown, 1))
    window_ids = window_ids.ravel()
    stencil = np.empty((25, pixels.size), np.float32)
    row_spans = np.array_split(np.arange(pixels.size), threads)

    def rows(span: Ints) -> None:
        if span.size and fused:
            kernels.gather_rows(terms, window_ids, pixels, (int(span[0]), int(span[-1]) + 1),
                                w + 2, stencil)
        elif span.size:
            part = slice(int(span[0]), int(span[-1]) + 1)
            stencil[:, part] = _gather_rows(terms, window_ids, pixels[part], w + 2)

    run_tiles(rows, row_spans, threads)
    return stencil


def band_system(stencil: F32, unknown: BoolMap, known: F32, prior: F32, lam: float
                ) -> tuple[CsrMatrix, F32, F32]:
    """The band's system ``(L_UU + lam I) x = lam prior_U - L_UK known_K``.

    ``stencil`` from :func:`band_stencil`; ``unknown`` ``bool (h, w)``; ``known``/``prior``
    ``float32 (h, w)``. Returns the CSR matrix (``n x n``), the right-hand side and the
    diagonal (``float32 (n,)`` each).

    Every row keeps all 25 stencil slots: a neighbour outside the band (its term moved to the
    right-hand side) becomes a zero on the row's own column. Nearly every neighbour of a band
    pixel is in the band (12 MP: 0.99 M of 1.02 M slots), so the product costs the same, and
    the rows need no compaction (a third of this step); the zeros add exactly nothing.
    """
    n = stencil.shape[1]
    if kernels.available():
        threads = refine_threads() if n > SPLIT_ROWS else 1
        cols, vals, rim, outside, fixed_near = kernels.band_rows(stencil, unknown, known, lam,
                                                                 threads)
        rhs = lam * prior[unknown].astype(np.float32)
        # the numpy path's row sums, to the bit (elsewhere they are zeros)
        rhs[rim] -= np.einsum("nk,nk->n", outside, fixed_near)
        indptr = np.arange(0, 25 * n + 1, 25, dtype=np.int32)
        return CsrMatrix(indptr, cols.ravel(), vals.ravel(), n, 25), rhs, vals[:, 12].copy()
    h, w = unknown.shape
    pw = w + 4
    ids = np.full((h + 4, pw), -1, np.int32)  # int32 indices: what the CSR product takes
    ids[2:-2, 2:-2][unknown] = np.arange(n, dtype=np.int32)
    fixed = np.zeros((h + 4, pw), np.float32)
    fixed[2:-2, 2:-2] = known
    fixed[2:-2, 2:-2][unknown] = 0.0
    ids, fixed = ids.ravel(), fixed.ravel()
    steps = np.array([(k // 5 - 2) * pw + k % 5 - 2 for k in range(25)], np.intp)
    near = np.flatnonzero(ids >= 0)[:, None] + steps  # (n, 25): each row's 25 neighbours
    cols = np.take(ids, near)
    vals = np.ascontiguousarray(stencil.T)
    rhs = lam * prior[unknown].astype(np.float32)
    rhs -= np.einsum("nk,nk->n", vals, np.take(fixed, near))
    vals[:, 12] += lam  # the diagonal (offset 0): the pull towards the prior
    outside = cols < 0
    vals[outside] = 0.0
    np.copyto(cols, np.arange(n, dtype=np.int32)[:, None], where=outside)
    indptr = np.arange(0, 25 * n + 1, 25, dtype=np.int32)
    system = CsrMatrix(indptr, cols.ravel(), vals.ravel(), n, 25)
    return system, rhs, vals[:, 12].copy()


def dot(a: F32, b: F32) -> float:
    """``a . b`` of two ``float32 (n,)`` vectors in one pass (einsum's own loop: no
    temporary, and no BLAS, whose threads can stall for milliseconds on a busy CPU)."""
    return float(np.einsum("i,i->", a, b))


def pcg(a: CsrMatrix, b: F32, x: F32, inv_diag: F32, iters: int, tol: float
        ) -> tuple[F32, int]:
    """Jacobi-preconditioned conjugate gradients on ``a x = b`` from ``x`` (updated in place),
    in float32 (half the memory traffic of float64; the answer is needed to about 1e-3 only).
    Returns ``x`` and the number of steps taken.

    Written without BLAS calls (:func:`dot`); every temporary is allocated once, and the
    matrix product writes into the same buffer each step, split between the threads the
    caller allows for a large band (:class:`SplitProduct`: the same bits). With the compiled
    kernels, the band's matrix (25 entries a row) is solved by ``kernels.pcg``: the same
    steps in one call, the vector updates fused and the dot products in float64 (the
    answer moves by a float32 rounding, and the step count by at most one).
    """
    threads = refine_threads() if a.n > SPLIT_ROWS else 1
    if a.row_width == 25 and kernels.available():
        x = np.ascontiguousarray(x, np.float32)
        steps = kernels.pcg(a.indices, a.data, np.ascontiguousarray(b, np.float32), x,
                            np.ascontiguousarray(inv_diag, np.float32), iters, tol, threads)
        return x, steps
    with SplitProduct(a, threads) as product:
        return _pcg(product, a.n, b, x, inv_diag, iters, tol)


def _pcg(product: Callable[[F32, F32], F32], n: int, b: F32, x: F32, inv_diag: F32,
         iters: int, tol: float) -> tuple[F32, int]:
    """:func:`pcg`'s steps, with the matrix product ``product(x, out)`` of an ``n x n``
    matrix."""
    ap = np.empty(n, np.float32)
    r = b - product(x, ap)
    z = r * inv_diag
    p = z.copy()
    scratch = np.empty_like(b)
    rz = dot(r, z)
    stop = tol * (float(np.sqrt(dot(b, b))) or 1.0)
    steps = 0
    for steps in range(1, iters + 1):
        product(p, ap)
        curvature = dot(p, ap)
        if not curvature > 0.0:  # p = 0: the start already solves it (a 1 px strip's band)
            return x, steps - 1
        step = rz / curvature
        x += np.multiply(p, step, out=scratch)
        r -= np.multiply(ap, step, out=scratch)
        if float(np.sqrt(dot(r, r))) < stop:
            break
        np.multiply(r, inv_diag, out=z)
        rz_next = dot(r, z)
        p *= rz_next / rz
        p += z
        rz = rz_next
    return x, steps
