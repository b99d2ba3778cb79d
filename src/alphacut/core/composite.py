"""Composite: the cut-out, the mask, or the subject over a new background; optional crop."""

from __future__ import annotations

import cv2
import numpy as np

from alphacut.core.cutout import alpha_to_u8, cutout
from alphacut.types import RGB, Alpha

CROP_THRESHOLD = 0.05  # alpha above this counts as subject when cropping
__all__ = ["alpha_to_u8", "blend", "cover", "crop", "cutout", "over_color", "over_image",
           "subject_box"]


def over_color(fg: RGB, alpha: Alpha, color: tuple[int, int, int, int]) -> np.ndarray:
    """Subject over a flat colour: ``uint8 (H, W, 3)``, or ``(H, W, 4)`` if the colour is
    translucent (alpha combined as "over")."""
    r, g, b, a = color
    bg = np.empty_like(fg)
    bg[...] = (r, g, b)
    if a == 255:
        return blend(fg, alpha, bg)
    a_bg = a / 255.0
    out_alpha = alpha + a_bg * (1.0 - alpha)
    weight = np.divide(alpha, out_alpha, out=np.zeros_like(alpha), where=out_alpha > 0)
    return np.dstack([blend(fg, weight, bg), alpha_to_u8(out_alpha)])


def over_image(fg: RGB, alpha: Alpha, background: RGB) -> RGB:
    """Subject over a background photo, scaled to cover and centre-cropped: ``uint8 (H,W,3)``."""
    height, width = fg.shape[:2]
    return blend(fg, alpha, cover(background, height, width))


def cover(image: RGB, height: int, width: int) -> RGB:
    """Scale ``image`` to cover ``height`` x ``width`` and centre-crop it."""
    ih, iw = image.shape[:2]
    scale = max(height / ih, width / iw)
    nh, nw = max(height, round(ih * scale)), max(width, round(iw * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (nw, nh), interpolation=interp)
    y0, x0 = (nh - height) // 2, (nw - width) // 2
    return np.ascontiguousarray(scaled[y0:y0 + height, x0:x0 + width])


def blend(fg: RGB, alpha: Alpha, bg: RGB) -> RGB:
    """``alpha * fg + (1 - alpha) * bg`` for ``uint8 (H, W, 3)`` images."""
    a = alpha[..., None]
    out = fg.astype(np.float32) * a + bg.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def subject_box(alpha: Alpha, margin: int) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) around pixels with alpha > CROP_THRESHOLD, plus ``margin``; None if
    the image has no subject."""
    solid = alpha > CROP_THRESHOLD
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(solid.any(axis=0))
    h, w = alpha.shape
    return (max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin),
            max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin))


def crop(pixels: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """Crop any ``(H, W[, C])`` array to ``box``; the whole array if ``box`` is None."""
    if box is None:
        return pixels
    y0, y1, x0, x1 = box
    return np.ascontiguousarray(pixels[y0:y1, x0:x1])
