"""Mask: the model's soft mask brought to the image's full resolution.

``guided`` is a fast guided filter (He & Sun, 2015): the linear coefficients are fitted at a
bounded working resolution and applied to the full-resolution image, so the mask's edge snaps
to the real edges in the photo instead of the model's 320 or 1024 px grid.
"""

from __future__ import annotations

import cv2
import numpy as np

from alphacut.types import RGB, Alpha, Mask

WORK_MAX_SIDE = 1024  # guided filter fit resolution (longest side), bounded for speed


def upsample_bilinear(mask: Mask, size: tuple[int, int]) -> Mask:
    """``float32 (h, w)`` -> ``float32 (H, W)`` in [0, 1], plain bilinear."""
    height, width = size
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)


def to_gray(rgb: RGB) -> np.ndarray:
    """``uint8 (H, W, 3)`` -> ``float32 (H, W)`` in [0, 1]."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.multiply(gray, np.float32(1.0 / 255.0), dtype=np.float32)  # one pass, no copy


def working_size(height: int, width: int, max_side: int = WORK_MAX_SIDE) -> tuple[int, int]:
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def guided_coefficients(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel linear model ``q = a * guide + b``; all ``float32 (h, w)``."""
    ksize = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, ksize, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)
    mean_p = box(source)
    cov_ip = box(guide * source) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a), box(b)


def upsample_guided(mask: Mask, rgb: RGB, *, radius: int = 4, eps: float = 1e-3) -> Mask:
    """Edge-aware upsampling of ``float32 (h, w)`` to the size of ``rgb`` ``uint8 (H, W, 3)``.

    Returns ``float32 (H, W)`` in [0, 1].
    """
    height, width = rgb.shape[:2]
    work_h, work_w = working_size(height, width)
    gray_full = to_gray(rgb)
    guide = gray_full if (work_h, work_w) == (height, width) else cv2.resize(
        gray_full, (work_w, work_h), interpolation=cv2.INTER_AREA)
    source = cv2.resize(mask, (work_w, work_h), interpolation=cv2.INTER_LINEAR)
    a, b = guided_coefficients(guide, source, radius, eps)
    if (work_h, work_w) != (height, width):
        a = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (width, height), interpolation=cv2.INTER_LINEAR)
    out = cv2.multiply(a, gray_full, dst=a)  # in place: no new full-resolution array
    cv2.add(out, b, dst=out)
    return np.clip(out, 0.0, 1.0, out=out)


def to_full_resolution(
    mask: Mask, rgb: RGB, *, method: str = "guided", radius: int = 4, eps: float = 1e-3
) -> Mask:
    """Soft mask at model size -> ``float32 (H, W)`` in [0, 1] at the image's size."""
    if method == "bilinear":
        return upsample_bilinear(mask, rgb.shape[:2])
    return upsample_guided(mask, rgb, radius=radius, eps=eps)


def limit_by_input_alpha(alpha: Alpha, input_alpha: Alpha | None) -> Alpha:
    """An input's own transparency bounds the result: ``alpha * input_alpha``."""
    if input_alpha is None:
        return alpha
    return np.minimum(alpha, input_alpha)
