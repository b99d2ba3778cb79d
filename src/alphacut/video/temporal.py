"""Temporal stability: motion-compensated smoothing of the soft mask between frames.

A model run frame by frame flickers: the same edge moves a pixel or two, a thin part comes
and goes. Here each frame's soft mask is blended with the previous *smoothed* mask warped
along the optical flow (OpenCV DIS, computed on small grey frames), so a pixel's value is
averaged along its own motion path. The blend weight falls where the warp is not trusted:
where the warped previous frame does not match the current one in colour (occlusion, fast
motion, a cut) and where the flow points outside the picture. A scene cut (most of the frame
mismatching) resets the filter.

Input and output: soft mask ``float32 (H, W)`` in [0, 1]; frame ``uint8 (H, W, 3)`` RGB.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class TemporalParams:
    """Defaults tuned on ../shared/evaldata/davis2016 (docs/video.md).

    ``flow_side``: long side of the frames the flow is computed on (pixels);
    ``strength``: the largest weight given to the warped previous mask (0: off, <1);
    ``sigma``: colour mismatch (grey levels, 0..255) at which trust falls to 1/e;
    ``cut``: fraction of mismatching pixels that counts as a scene cut;
    ``mask_side``: long side the masks are blended at (larger frames get the correction
    resized up: the models' masks hold no finer detail than this)."""

    flow_side: int = 320
    strength: float = 0.85
    sigma: float = 20.0
    cut: float = 0.5
    mask_side: int = 960


class TemporalSmoother:
    """Call it on frames in display order: ``smoothed = smoother(soft, rgb)``. One per clip."""

    def __init__(self, params: TemporalParams | None = None) -> None:
        self.params = params or TemporalParams()
        self._flow = None
        self._prev_gray: np.ndarray | None = None
        self._prev_mask: np.ndarray | None = None

    def reset(self) -> None:
        self._prev_gray = None
        self._prev_mask = None

    def __call__(self, soft: np.ndarray, rgb: np.ndarray) -> np.ndarray:
        gray = self._small_gray(rgb)
        work = self._work_copy(soft)
        prev_gray, prev_mask = self._prev_gray, self._prev_mask
        out = work
        if prev_gray is not None and prev_mask is not None and prev_gray.shape == gray.shape \
                and prev_mask.shape == work.shape and self.params.strength > 0:
            out = self._blend(work, gray, prev_gray, prev_mask)
        self._prev_gray, self._prev_mask = gray, out
        if work is soft or out is work:
            return out if work is soft else soft
        import cv2  # a large frame: the correction, made at working size, brought up

        height, width = soft.shape
        delta = cv2.resize(out - work, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.clip(soft + delta, 0.0, 1.0, out=delta)

    def _work_copy(self, soft: np.ndarray) -> np.ndarray:
        """``soft`` itself, or a copy with its long side cut to ``mask_side``."""
        import cv2

        height, width = soft.shape
        scale = self.params.mask_side / max(height, width)
        if scale >= 1.0:
            return soft
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        return cv2.resize(soft, size, interpolation=cv2.INTER_AREA)

    def _small_gray(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        height, width = rgb.shape[:2]
        scale = min(1.0, self.params.flow_side / max(height, width))
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    def _dis(self):  # type: ignore[no-untyped-def]
        import cv2

        if self._flow is None:
            self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        return self._flow

    def _blend(self, soft: np.ndarray, gray: np.ndarray, prev_gray: np.ndarray,
               prev_mask: np.ndarray) -> np.ndarray:
        """``soft`` pulled towards ``prev_mask`` warped into this frame, where trusted."""
        import cv2

        # flow from this frame to the previous one: where each pixel was a frame ago
        flow = self._dis().calc(gray, prev_gray, None)
        h, w = gray.shape
        grid_x, grid_y = _grid(h, w)
        map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
        warped_gray = cv2.remap(prev_gray, map_x, map_y, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        error = cv2.GaussianBlur(cv2.absdiff(gray, warped_gray).astype(np.float32), (5, 5), 0)
        trust = np.exp(-error / self.params.sigma)
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        trust[~inside] = 0.0
        if float(np.mean(trust < 0.37)) > self.params.cut:
            return soft  # a scene cut: start afresh
        big_h, big_w = soft.shape
        sx, sy = big_w / w, big_h / h
        big_flow = cv2.resize(flow, (big_w, big_h), interpolation=cv2.INTER_LINEAR)
        bx, by = _grid(big_h, big_w)
        warped = cv2.remap(prev_mask, bx + big_flow[..., 0] * sx, by + big_flow[..., 1] * sy,
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        weight = cv2.resize(trust, (big_w, big_h), interpolation=cv2.INTER_LINEAR)
        weight *= self.params.strength
        return (soft + weight * (warped - soft)).astype(np.float32, copy=False)


@lru_cache(maxsize=4)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``float32 (H, W)`` x and y (read-only, shared)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys
