"""Matting in the uncertain band: closed-form alpha where the model is unsure, nowhere else.

The model's soft mask gives a trimap: sure foreground where ``soft >= hi``, sure background
where ``soft <= lo``, both eroded by a band whose width scales with the image. In the unknown
band between them, alpha is the minimiser of Levin et al.'s closed-form matting energy
("A Closed-Form Solution to Natural Image Matting", PAMI 2008) plus a weak pull towards the
model's soft mask::

    alpha_U = argmin  alpha^T L alpha + lam * |alpha_U - soft_U|^2,   alpha fixed on the trimap

``L`` is the matting Laplacian of 3x3 colour windows. It is built only for the windows that
touch the band, at a bounded working resolution (``max_side``), with numpy and scipy alone (no
numba JIT, no first-call delay), and solved by a few dozen Jacobi-preconditioned conjugate
gradient steps started from the soft mask. Large images are solved at the working resolution
and the whole working-size matte is brought back with edge-aware (guided) upsampling against
the full-resolution photo (sure regions stay 0 or 1 except within the filter's few pixels of
the band; pasting the band alone was not tried).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from alphacut.types import RGB, Alpha, Mask

if TYPE_CHECKING:
    import scipy.sparse as sp

BoolMap = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]

MIN_REACH = 12  # pixels: small images still get a band as wide as a model's blur
_WINDOW = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # 3x3 window offsets


@dataclass(frozen=True)
class MattingParams:
    """Knobs of :func:`refine_band` (defaults measured on ../shared/evaldata).

    - ``lo``/``hi``: soft-mask levels at or below/above which a pixel is sure background/fg.
    - ``band``: extra band width on each side, as a fraction of the working image's long side.
    - ``reach``: the band reaches at most this far (same unit) from the mask's 0.5 outline.
    - ``max_side``: the solve runs with the image's long side at most this many pixels.
    - ``lam``: pull towards the soft mask inside the band (0 = pure closed-form matting).
    - ``eps``: colour-line regulariser of the matting Laplacian, on [0, 1] colours.
    - ``iters``/``tol``: conjugate-gradient steps and relative residual to stop at.
    """

    lo: float = 0.05
    hi: float = 0.95
    band: float = 0.0
    reach: float = 0.03
    max_side: int = 1024
    lam: float = 1e-2
    eps: float = 1e-5
    iters: int = 100
    tol: float = 1e-4


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
    inside = (soft >= 0.5).astype(np.uint8)
    # within ``reach`` of the other side of the outline (distance transforms: linear time,
    # where a morphology kernel that wide costs several times more)
    to_outside = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_5)
    to_inside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_5)
    near = np.where(inside > 0, to_outside <= reach, to_inside <= reach)
    unknown = near & (fg == 0) & (bg == 0)
    rest = soft if value is None else value
    known = np.where(fg > 0, 1.0, np.where(bg > 0, 0.0, rest)).astype(np.float32)
    return unknown, known


def laplacian_stencil(image: F32, centres: BoolMap, eps: float) -> F32:
    """Closed-form matting Laplacian of the 3x3 windows centred on ``centres``, as a stencil.

    ``image``: ``float32 (h, w, 3)`` in [0, 1]; ``centres``: ``bool (h, w)``, never on the
    border row/column. Returns ``float32 (25, h * w)``: ``L[p, p + d]`` for the 25 offsets
    ``d`` of a 5x5 neighbourhood, ``d = (k // 5 - 2, k % 5 - 2)``.
    """
    h, w, _ = image.shape
    cy, cx = np.nonzero(centres)
    planes = [image[..., c].astype(np.float64).ravel() for c in range(3)]  # float64: stable det
    base = cy * w + cx
    index = [base + dy * w + dx for dy, dx in _WINDOW]
    colours = [[plane[idx] for plane in planes] for idx in index]  # 9 x 3 x M
    mean = [sum(colours[k][c] for k in range(9)) / 9.0 for c in range(3)]
    x = [[colours[k][c] - mean[c] for c in range(3)] for k in range(9)]

    def cov(a: int, b: int) -> npt.NDArray[np.float64]:
        return sum(x[k][a] * x[k][b] for k in range(9)) / 9.0 + (eps / 9.0 if a == b else 0.0)

    c00, c01, c02, c11, c12, c22 = cov(0, 0), cov(0, 1), cov(0, 2), cov(1, 1), cov(1, 2), cov(2, 2)
    i00 = c11 * c22 - c12 * c12
    i01 = c02 * c12 - c01 * c22
    i02 = c01 * c12 - c02 * c11
    i11 = c00 * c22 - c02 * c02
    i12 = c02 * c01 - c00 * c12
    i22 = c00 * c11 - c01 * c01
    inv_det = 1.0 / np.maximum(c00 * i00 + c01 * i01 + c02 * i02, (eps / 9.0) ** 3)
    y = [[(i00 * v[0] + i01 * v[1] + i02 * v[2]) * inv_det,
          (i01 * v[0] + i11 * v[1] + i12 * v[2]) * inv_det,
          (i02 * v[0] + i12 * v[1] + i22 * v[2]) * inv_det] for v in x]
    # entries grouped by stencil offset, then summed per pixel with one bincount per offset
    # (several times faster than scattering with fancy-index += into the stencil)
    rows: list[list[npt.NDArray[np.int64]]] = [[] for _ in range(25)]
    values: list[list[npt.NDArray[np.float64]]] = [[] for _ in range(25)]
    for i, (dyi, dxi) in enumerate(_WINDOW):
        for j in range(i, 9):
            dyj, dxj = _WINDOW[j]
            g = y[i][0] * x[j][0] + y[i][1] * x[j][1] + y[i][2] * x[j][2]
            value = ((9.0 if i == j else 0.0) - 1.0 - g) * (1.0 / 9.0)
            k = (dyj - dyi + 2) * 5 + dxj - dxi + 2
            rows[k].append(index[i])
            values[k].append(value)
            if i != j:
                rows[24 - k].append(index[j])
                values[24 - k].append(value)
    stencil = np.zeros((25, h * w), np.float32)
    for k in range(25):
        if rows[k]:
            stencil[k] = np.bincount(np.concatenate(rows[k]), np.concatenate(values[k]),
                                     minlength=h * w)
    return stencil


def _pcg(a: sp.csr_matrix, b: npt.NDArray[np.float32], x: npt.NDArray[np.float32],
         iters: int, tol: float) -> npt.NDArray[np.float32]:
    """Jacobi-preconditioned conjugate gradients on ``a x = b`` from ``x``, in float32 (half
    the memory traffic of float64; the answer is needed to about 1e-3 only).

    Written without BLAS calls: a multithreaded OpenBLAS dot on a busy CPU can take
    milliseconds instead of microseconds.
    """
    inv_diag = 1.0 / a.diagonal()
    r = b - a @ x
    z = r * inv_diag
    p = z.copy()
    rz = float((r * z).sum())
    stop = tol * (float(np.sqrt((b * b).sum())) or 1.0)
    for _ in range(iters):
        ap = a @ p
        step = rz / float((p * ap).sum())
        x += step * p
        r -= step * ap
        if float(np.sqrt((r * r).sum())) < stop:
            break
        z = r * inv_diag
        rz_next = float((r * z).sum())
        p *= rz_next / rz
        p += z
        rz = rz_next
    return x


def solve_alpha(image: F32, unknown: BoolMap, known: Alpha, prior: Mask, *,
                lam: float = 1e-3, eps: float = 1e-5, iters: int = 100, tol: float = 1e-4
                ) -> Alpha:
    """Alpha ``float32 (h, w)`` in [0, 1]: ``known`` outside ``unknown``, matted inside it.

    ``image``: ``float32 (h, w, 3)`` in [0, 1]; ``unknown``: ``bool (h, w)``; ``known`` and
    ``prior``: ``float32 (h, w)`` in [0, 1] (the prior is the start and the weak data term).
    """
    h, w = prior.shape
    alpha = known.astype(np.float32, copy=True)
    if not unknown.any():
        return alpha
    ys, xs = np.nonzero(unknown)
    y0, y1 = max(0, ys.min() - 2), min(h, ys.max() + 3)
    x0, x1 = max(0, xs.min() - 2), min(w, xs.max() + 3)
    crop = (slice(y0, y1), slice(x0, x1))
    sub_unknown = unknown[crop]
    ch, cw = sub_unknown.shape
    centres = cv2.dilate(sub_unknown.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    centres[0, :] = centres[-1, :] = False
    centres[:, 0] = centres[:, -1] = False
    stencil = laplacian_stencil(np.ascontiguousarray(image[crop]), centres, eps)

    flat_unknown = np.flatnonzero(sub_unknown)
    n = flat_unknown.size
    ids = np.full(ch * cw, -1, np.int64)
    ids[flat_unknown] = np.arange(n)
    known_flat = alpha[crop].ravel().astype(np.float64)
    uy, ux = flat_unknown // cw, flat_unknown % cw
    rhs = lam * prior[crop].ravel()[flat_unknown].astype(np.float64)
    cols = np.empty((n, 25), np.int64)  # row r's neighbour at offset k (-1: known or outside)
    vals = np.empty((n, 25), np.float32)
    for k in range(25):
        dy, dx = k // 5 - 2, k % 5 - 2
        qy, qx = uy + dy, ux + dx
        inside = (qy >= 0) & (qy < ch) & (qx >= 0) & (qx < cw)
        q = np.where(inside, qy * cw + qx, 0)
        value = stencil[k, flat_unknown] * inside
        cols[:, k] = np.where(inside, ids[q], -1)
        vals[:, k] = value
        rhs -= np.where(cols[:, k] >= 0, 0.0, value * known_flat[q])
    vals[:, 12] += lam  # the diagonal (offset 0): the pull towards the prior
    import scipy.sparse as sp  # ~0.15 s to import: only when a band is solved

    # CSR straight away: offsets in ascending k are ascending columns, none repeated
    in_band = cols >= 0
    indptr = np.concatenate(([0], np.cumsum(in_band.sum(axis=1))))
    system = sp.csr_matrix((vals[in_band], cols[in_band], indptr), shape=(n, n))
    start = prior[crop].ravel()[flat_unknown].astype(np.float32)
    solution = _pcg(system, rhs.astype(np.float32), start, iters, tol)
    patch = alpha[crop].ravel()
    patch[flat_unknown] = np.clip(solution, 0.0, 1.0)
    alpha[crop] = patch.reshape(ch, cw)
    return alpha


def refine_band(rgb: RGB, soft: Mask, params: MattingParams | None = None, *,
                unsure: Mask | None = None) -> Alpha:
    """Matte ``float32 (H, W)`` in [0, 1] for ``rgb`` ``uint8 (H, W, 3)`` from its soft mask.

    Sure regions become exactly 0 or 1; the band is solved at most ``params.max_side`` pixels
    on the long side and brought back to full size with guided upsampling. ``unsure``
    (``float32 (H, W)``, default ``soft``) is the map the trimap is cut from, e.g. the plain
    mean of an ensemble, which stays grey wherever its models disagree.
    """
    from alphacut.core.mask import working_size

    p = params or MattingParams()
    height, width = soft.shape
    work_h, work_w = working_size(height, width, p.max_side)
    scaled = (work_h, work_w) != (height, width)
    cut = soft if unsure is None else unsure
    if scaled:
        image = cv2.resize(rgb, (work_w, work_h), interpolation=cv2.INTER_AREA)
        prior = cv2.resize(soft, (work_w, work_h), interpolation=cv2.INTER_AREA)
        cut = cv2.resize(cut, (work_w, work_h), interpolation=cv2.INTER_AREA)
    else:
        image, prior = rgb, soft
    width_px = max(1, round(p.band * max(work_h, work_w)))
    reach = max(width_px + 1, MIN_REACH, round(p.reach * max(work_h, work_w)))
    unknown, known = band_trimap(cut, lo=p.lo, hi=p.hi, width=width_px, reach=reach,
                                 value=prior)
    alpha = solve_alpha(image.astype(np.float32) * (1.0 / 255.0), unknown, known, prior,
                        lam=p.lam, eps=p.eps, iters=p.iters, tol=p.tol)
    if not scaled:
        return alpha
    return upsample_matte(alpha, rgb)


def upsample_matte(alpha: Alpha, rgb: RGB, *, radius: int = 2, eps: float = 1e-4) -> Alpha:
    """Guided upsampling of a working-size matte ``float32 (h, w)`` to ``rgb``'s ``(H, W)``.

    The guided filter's linear coefficients are fitted at ``(h, w)`` against the grey image and
    applied to the full-resolution grey image, so edges follow the photo. Returns [0, 1].
    """
    from alphacut.core.mask import guided_coefficients, to_gray

    height, width = rgb.shape[:2]
    h, w = alpha.shape
    gray = to_gray(rgb)
    a, b = guided_coefficients(cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA), alpha,
                               radius, eps)
    out = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR) * gray
    out += cv2.resize(b, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0, out=out)
