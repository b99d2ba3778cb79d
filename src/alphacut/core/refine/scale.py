"""The solve's working size: where refine fits, and how a full-size map gets there and back.

Band matting and the decontamination's fit run at a bounded working size (``max_side`` on
the long side). When an exact power-of-two shrink lands near that size (a 12 MP photo: a
quarter, 1060 px), the working grid is the photo's 2^k x 2^k blocks: the photo and its maps
shrink by exact ``INTER_AREA`` halvings (OpenCV's vectorised 2x2 path: a 12 MP photo in 5 ms
where one ``INTER_AREA`` resize to 1024 px costs 40 ms), and the last rows/columns beyond a
whole block are left out of the fit (at most ``2^k - 1`` of them; the way back clamps to the
last block). A photo between ``max_side`` and twice it (a 1 MP photo, 1155 px) is solved on its
exact halving too (578 px), with the upsampling's guided window narrowed to radius 1 (6 full-size
pixels, as radius 2 spanned at the ~0.9x resize it replaces): a third of the refine CPU, and on
1 MP photos SAD/gradient within 1 % of the 1024 px solve (docs/benchmark.md, session 8). Other
sizes keep one ``INTER_AREA`` resize to the working size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from alphacut.core.refine.tiles import AxisTaps

EXACT_SLACK = 0.15  # an exact shrink may land this far (fraction) from max_side
GUIDE_RADIUS = 2  # the guided upsampling's window radius, working pixels
MID_GUIDE_RADIUS = 1  # ... on a mid-size photo's halving (below max_side, see solve_size)


@dataclass(frozen=True)
class SolveScale:
    """A full ``(H, W)`` frame and its working ``size = (h, w)``.

    ``factor``: 2^k when the working grid is the frame's 2^k-pixel blocks (exact halvings),
    else 0 (one ``INTER_AREA`` resize of the whole frame). ``step``: full-size pixels per
    working pixel along (rows, cols), the geometry of the way back.
    """

    full: tuple[int, int]
    size: tuple[int, int]
    factor: int = 0
    radius: int = GUIDE_RADIUS  # the way back's guided window radius, working pixels

    @property
    def scaled(self) -> bool:
        return self.size != self.full

    @property
    def step(self) -> tuple[float, float]:
        if self.factor:
            return float(self.factor), float(self.factor)
        return self.full[0] / self.size[0], self.full[1] / self.size[1]

    def shrink(self, image: np.ndarray) -> np.ndarray:
        """``image`` ``(H, W[, c])`` (any dtype OpenCV resizes) at the working size, area
        averaged: by exact halvings of its whole blocks, or by one ``INTER_AREA`` resize."""
        if not self.scaled:
            return image
        h, w = self.size
        if not self.factor:
            return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        out = image[:h * self.factor, :w * self.factor]
        while out.shape[0] > h:
            out = cv2.resize(out, (out.shape[1] // 2, out.shape[0] // 2),
                             interpolation=cv2.INTER_AREA)
        return out

    def from_grid(self, small: np.ndarray) -> np.ndarray:
        """A map ``float32 (m, n)`` that covers the whole frame (a model's output), sampled
        bilinearly at the working pixels' centres: ``float32 (h, w)``. Equal to
        ``cv2.resize(small, (w, h))`` when the working grid covers the whole frame too."""
        from alphacut.core.refine.tiles import AxisTaps, resize_window

        h, w = self.size
        (sy, sx), (m, n) = self.step, small.shape
        taps = (AxisTaps(m, h, sy * m / self.full[0]), AxisTaps(n, w, sx * n / self.full[1]))
        return resize_window(small[None], (h, w), slice(0, h), slice(0, w), taps=taps)[0]

    def taps_back(self) -> tuple[AxisTaps, AxisTaps]:
        """The bilinear taps from the working grid to the full frame, rows then columns."""
        from alphacut.core.refine.tiles import AxisTaps

        (h, w), (height, width), (sy, sx) = self.size, self.full, self.step
        return AxisTaps(h, height, 1.0 / sy), AxisTaps(w, width, 1.0 / sx)


def solve_size(height: int, width: int, max_side: int) -> SolveScale:
    """The working scale of a ``(height, width)`` frame for a solve of at most about
    ``max_side`` px on the long side: an exact 2^k shrink when one lands within
    ``EXACT_SLACK`` of ``max_side`` (and leaves whole pixels); a frame between ``max_side``
    and twice it on its exact halving (guided radius :data:`MID_GUIDE_RADIUS`); else
    ``max_side`` exactly (or the frame itself when it is small enough)."""
    from alphacut.core.mask import working_size

    long_side = max(height, width)
    if max_side < long_side < 2 * max_side * (1.0 - EXACT_SLACK) and min(height, width) >= 2:
        return SolveScale((height, width), (height // 2, width // 2), 2, MID_GUIDE_RADIUS)
    if long_side > max_side * (1.0 + EXACT_SLACK):
        factor = 2 ** max(1, round(math.log2(long_side / max_side)))
        if abs(long_side / factor - max_side) <= EXACT_SLACK * max_side \
                and min(height, width) >= factor:
            return SolveScale((height, width), (height // factor, width // factor), factor)
    return SolveScale((height, width), working_size(height, width, max_side))
