"""Colour matching: shift the subject's colour statistics toward the new background's.

In CIE Lab (OpenCV, from sRGB), per channel: the subject's alpha-weighted mean moves toward
the background's mean by ``strength`` (so the mean moves by exactly ``strength`` times the
difference, before the gamut clip), and its spread around the mean is scaled by
``(std_bg / std_subject) ** strength``, the ratio kept within [0.5, 2] so a flat colour
background cannot flatten the subject. Without a new background it does nothing (a
transparent cut-out has no background to match).
"""

from __future__ import annotations

import cv2
import numpy as np

from alphacut.types import RGB, Alpha

SPREAD_LIMIT = 2.0  # the std ratio is kept within [1 / SPREAD_LIMIT, SPREAD_LIMIT]
Stats = tuple[np.ndarray, np.ndarray]
"""Lab (mean, std) per channel, ``float64 (3,)`` each."""


def to_lab(rgb: RGB) -> np.ndarray:
    """sRGB ``uint8 (..., 3)`` -> Lab ``float32 (..., 3)`` (L 0..100, a and b about ±127)."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> RGB:
    """Lab ``float32 (..., 3)`` -> sRGB ``uint8``, out-of-gamut values clipped."""
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def weighted_stats(lab: np.ndarray, weight: np.ndarray | None = None) -> Stats:
    """(mean, std) per channel, ``float64 (3,)`` each, of Lab pixels ``(..., 3)``, weighted
    by ``weight`` ``(...)`` (None: equal weights)."""
    pixels = lab.reshape(-1, 3).astype(np.float64)
    w = np.ones(len(pixels)) if weight is None else weight.reshape(-1).astype(np.float64)
    total = w.sum()
    if total <= 0:
        return np.zeros(3), np.zeros(3)
    mean = (pixels * w[:, None]).sum(axis=0) / total
    var = (((pixels - mean) ** 2) * w[:, None]).sum(axis=0) / total
    return mean, np.sqrt(var)


def background_stats(background: RGB | None,
                     color: tuple[int, int, int, int] | None) -> Stats | None:
    """Lab (mean, std) of the new background: an image ``uint8 (H, W, 3)`` or a colour; None
    if there is neither."""
    if background is not None:
        small = _thumbnail(background)
        return weighted_stats(to_lab(small))
    if color is not None:
        lab = to_lab(np.array([[color[:3]]], np.uint8))
        return lab.reshape(3).astype(np.float64), np.zeros(3)
    return None


def match_colour(fg: RGB, alpha: Alpha, strength: float, target: Stats) -> RGB:
    """Foreground ``uint8 (H, W, 3)`` with its Lab statistics (weighted by alpha ``float32
    (H, W)``) moved toward ``target`` (mean, std) by ``strength`` in [0, 1]."""
    if strength <= 0 or fg.size == 0:
        return fg
    visible = alpha > 0
    if not visible.any():
        return fg
    lab = to_lab(fg)
    mean, std = weighted_stats(_sample(lab, visible), _sample(alpha, visible))
    t_mean, t_std = target
    ratio = np.divide(t_std, std, out=np.ones(3), where=std > 1e-6)
    ratio = np.clip(ratio, 1.0 / SPREAD_LIMIT, SPREAD_LIMIT) ** strength
    new_mean = mean + strength * (t_mean - mean)
    shifted = (lab - mean.astype(np.float32)) * ratio.astype(np.float32) + new_mean.astype(
        np.float32)
    out = from_lab(shifted)
    return np.where(visible[..., None], out, fg)


def _sample(values: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """The visible pixels of ``values`` ``(H, W[, C])``, at most about 1 MP of them."""
    picked = values[visible]
    step = max(1, len(picked) // 1_000_000)
    return picked[::step]


def _thumbnail(image: RGB, pixels: int = 1_000_000) -> RGB:
    """``image`` shrunk (area filter) to about ``pixels`` for statistics."""
    h, w = image.shape[:2]
    if h * w <= pixels:
        return image
    f = (pixels / (h * w)) ** 0.5
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))),
                      interpolation=cv2.INTER_AREA)


def finish(fg: RGB, alpha: Alpha, strength: float, background: RGB | None,
           color: tuple[int, int, int, int] | None) -> RGB:
    """The ``match_colour`` step: ``fg`` matched to the new background (an image the canvas's
    size, or a colour) by ``strength``; ``fg`` itself when 0 or there is no background."""
    if strength <= 0:
        return fg
    target = background_stats(background, color)
    return fg if target is None else match_colour(fg, alpha, strength, target)
