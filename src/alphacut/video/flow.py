"""Optical flow between two frames and warping along it: the helpers both temporal filters
(``temporal.TemporalSmoother``, causal; ``lookahead.WindowSmoother``, symmetric) share.

Flow is OpenCV DIS on small grey frames (``uint8 (h, w)``); masks are warped at their own
size ``float32 (H, W)`` with the flow scaled up. ``trust`` ``float32 (h, w)`` in [0, 1] says
how far the warp is believed: exp(-colour mismatch / sigma), 0 where the flow leaves the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

PRESETS = ("ultrafast", "fast", "medium")


def small_gray(rgb: np.ndarray, side: int) -> np.ndarray:
    """RGB ``uint8 (H, W, 3)`` -> grey ``uint8 (h, w)`` with its long side cut to ``side``."""
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def working_copy(soft: np.ndarray, side: int) -> np.ndarray:
    """``soft`` itself, or a copy with its long side cut to ``side`` (``float32 (h, w)``)."""
    import cv2

    height, width = soft.shape
    scale = side / max(height, width)
    if scale >= 1.0:
        return soft
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    return cv2.resize(soft, size, interpolation=cv2.INTER_AREA)


def bring_up(soft: np.ndarray, work: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The full-size ``soft`` plus the correction ``out - work`` made at working size,
    resized up and clipped to [0, 1] (``soft`` itself when nothing was resized)."""
    if work is soft:
        return out
    import cv2

    height, width = soft.shape
    delta = cv2.resize(out - work, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(soft + delta, 0.0, 1.0, out=delta)


def make_dis(preset: str = "fast") -> Any:
    """An OpenCV DIS optical flow object (``preset`` in ``PRESETS``)."""
    import cv2

    return cv2.DISOpticalFlow_create({
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}[preset])


@dataclass
class Warp:
    """Where each pixel of frame ``t`` sits in frame ``o``: ``flow`` ``float32 (h, w, 2)``
    at grey size, and the ``trust`` of that match ``float32 (h, w)`` in [0, 1]."""

    flow: np.ndarray
    trust: np.ndarray

    def cut(self, fraction: float) -> bool:
        """A scene cut: more than ``fraction`` of the pixels are barely trusted."""
        return float(np.mean(self.trust < 0.37)) > fraction

    def apply(self, mask: np.ndarray) -> np.ndarray:
        """Frame ``o``'s ``mask`` ``float32 (H, W)`` pulled into frame ``t``."""
        import cv2

        big_h, big_w = mask.shape
        h, w = self.trust.shape
        big = cv2.resize(self.flow, (big_w, big_h), interpolation=cv2.INTER_LINEAR)
        bx, by = grid(big_h, big_w)
        return cv2.remap(mask, bx + big[..., 0] * (big_w / w), by + big[..., 1] * (big_h / h),
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def trust_at(self, shape: tuple[int, int]) -> np.ndarray:
        """``trust`` resized to ``(H, W)``."""
        import cv2

        return cv2.resize(self.trust, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def warp_between(dis: Any, gray_t: np.ndarray, gray_o: np.ndarray, sigma: float) -> Warp:
    """The flow from frame ``t`` to frame ``o`` (both grey ``uint8 (h, w)``) and its trust:
    exp(-|gray_t - warped gray_o| / sigma), blurred 5x5, 0 where the flow leaves the frame."""
    import cv2

    flow = dis.calc(gray_t, gray_o, None)
    h, w = gray_t.shape
    grid_x, grid_y = grid(h, w)
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    warped = cv2.remap(gray_o, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    error = cv2.GaussianBlur(cv2.absdiff(gray_t, warped).astype(np.float32), (5, 5), 0)
    trust = np.exp(-error / sigma)
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    trust[~inside] = 0.0
    return Warp(flow, trust)


@lru_cache(maxsize=4)
def grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``float32 (H, W)`` x and y (read-only, shared)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys
