"""Composite: the cut-out, the mask, or the subject over a new background; optional crop."""

from __future__ import annotations

import cv2
import numpy as np

from alphacut.types import RGB, RGBA, Alpha

CROP_THRESHOLD = 0.05  # alpha above this counts as subject when cropping


def alpha_to_u8(alpha: Alpha) -> np.ndarray:
    """``float32 (H, W)`` in [0, 1] -> ``uint8 (H, W)`` 0..255, rounded to nearest.

    One pass in OpenCV, which rounds itself (an added 0.5 would round up: alpha 0.001 gave 1).
    """
    return cv2.convertScaleAbs(alpha, alpha=255.0) if alpha.size else alpha.astype(np.uint8)


def cutout(fg: RGB, alpha: Alpha) -> RGBA:
    """Straight-alpha RGBA ``uint8 (H, W, 4)``; colour under alpha 0 is set to black.

    Invisible pixels carry no old background, and the file is about half the size and
    faster to encode (measured on 12 MP PNG: 21.9 -> 9.8 MB, 1.31 -> 0.73 s).
    """
    a8 = alpha_to_u8(alpha)
    if a8.size == 0:
        return np.zeros((*a8.shape, 4), dtype=np.uint8)
    # cvtColor + one strided copy instead of np.dstack (12 MP: 95 -> 25 ms); blanking as one
    # multiply of each pixel's 4 bytes, seen as a uint32, by (alpha != 0): boolean-mask
    # assignment cost 230 ms when most of a 12 MP photo is background.
    rgba = cv2.cvtColor(np.ascontiguousarray(fg), cv2.COLOR_RGB2RGBA)
    rgba[..., 3] = a8
    pixels = rgba.view(np.uint32).reshape(a8.shape)
    np.multiply(pixels, a8 != 0, out=pixels)
    return rgba


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
