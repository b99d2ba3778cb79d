"""The symmetric window filter: each frame's soft mask averaged with the masks of the
``k = lookahead`` frames before and after it, each warped into this frame along optical flow.

For every neighbour ``o`` of frame ``t`` (``|o - t| <= k``) the flow ``t -> o`` is computed on
small grey frames (DIS, ``video/flow.py``); the neighbour's mask, as a logit, is pulled into
frame ``t`` and weighted by the colour trust of the match. The output is the sigmoid of the
trust-weighted mean of logits (frame ``t`` itself has weight 1). A neighbour across a scene
cut is left out. Averaging logits rather than probabilities keeps a confident pixel
confident when one neighbour is unsure, and moves an edge rather than greying it (measured on
DAVIS 2016: docs/video.md).

Frames go in with ``push`` in display order; each comes out ``k`` frames later (``flush`` at
the end). Memory: at most ``2k + 1`` masks at working size and small grey frames, plus the
full-size masks and caller's items of the ``k + 1`` frames not yet out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from alphacut.video.flow import bring_up, make_dis, small_gray, warp_between, working_copy
from alphacut.video.temporal import TemporalParams

EPS = 1e-4  # probabilities are clipped to [EPS, 1 - EPS] before the logit


@dataclass
class _Slot:
    """One frame in the window: the caller's ``item``, its full-size ``soft`` mask, the
    working-size ``logit`` ``float32 (h, w)`` and the small ``gray`` frame."""

    item: Any
    soft: np.ndarray | None
    work: np.ndarray
    logit: np.ndarray
    gray: np.ndarray


class WindowSmoother:
    """``push(item, soft, rgb)`` yields ``(item, smoothed)`` pairs ``lookahead`` frames late;
    ``flush()`` yields the rest. One per clip; ``soft`` ``float32 (H, W)`` in [0, 1],
    ``rgb`` ``uint8 (H, W, 3)``; ``smoothed`` like ``soft``."""

    def __init__(self, params: TemporalParams | None = None) -> None:
        self.params = params or TemporalParams()
        self.k = max(1, self.params.lookahead)
        self._dis = make_dis(self.params.window_flow)
        self._slots: deque[_Slot] = deque()  # the frames around the next one out
        self._next = 0  # index in _slots of the next frame to come out

    def push(self, item: Any, soft: np.ndarray, rgb: np.ndarray) -> list[tuple[Any, Any]]:
        """Add the next frame; the frame ``lookahead`` before it, if any, comes out."""
        work = working_copy(soft, self.params.window_side)
        self._slots.append(_Slot(item, soft, work, to_logit(work),
                                 small_gray(rgb, self.params.flow_side)))
        if len(self._slots) - 1 - self._next >= self.k:  # k frames after the next one
            return [self._emit()]
        return []

    def flush(self) -> Iterator[tuple[Any, Any]]:
        """The frames still held, in order (the end of the clip)."""
        while self._next < len(self._slots):
            yield self._emit()

    def _emit(self) -> tuple[Any, np.ndarray]:
        slot = self._slots[self._next]
        out = bring_up(slot.soft, slot.work, self._smoothed(self._next))
        item = slot.item
        slot.item = slot.soft = None  # a past frame keeps only its small copies
        self._next += 1
        while self._next > self.k:  # keep k frames before the next one
            self._slots.popleft()
            self._next -= 1
        return item, out

    def _smoothed(self, index: int) -> np.ndarray:
        """The working-size mask of ``_slots[index]``, averaged with its neighbours."""
        centre = self._slots[index]
        total = centre.logit.copy()
        weights = np.ones_like(total)
        for other, slot in enumerate(self._slots):
            if other == index or slot.gray.shape != centre.gray.shape \
                    or slot.logit.shape != centre.logit.shape:
                continue
            warp = warp_between(self._dis, centre.gray, slot.gray, self.params.window_sigma)
            if warp.cut(self.params.cut):
                continue  # across a scene cut
            trust = warp.trust_at(total.shape)
            total += trust * warp.apply(slot.logit)
            weights += trust
        return from_logit(total / weights)


def to_logit(p: np.ndarray) -> np.ndarray:
    """Probabilities ``float32`` in [0, 1] -> logits, clipped to +-log((1 - EPS) / EPS)."""
    q = np.clip(p, EPS, 1.0 - EPS)
    return np.log(q / (1.0 - q)).astype(np.float32, copy=False)


def from_logit(x: np.ndarray) -> np.ndarray:
    """Logits -> probabilities ``float32`` in [0, 1]; within EPS of 0 or 1 snapped to it (a
    pixel every frame agrees is background stays exactly 0)."""
    p = (1.0 / (1.0 + np.exp(-x))).astype(np.float32, copy=False)
    p[p <= 2 * EPS] = 0.0
    p[p >= 1.0 - 2 * EPS] = 1.0
    return p
