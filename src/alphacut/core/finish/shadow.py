"""``--shadow drop|contact``: a shadow synthesised from the matte, laid under the subject.

- ``drop``: the matte moved by the offset and blurred: the subject's silhouette cast on a
  wall or floor behind it.
- ``contact``: each subject's silhouette squashed to a thin band (``CONTACT_SQUASH`` of its
  height) whose bottom sits on its lowest row, then moved and blurred: the soft dark patch
  where an object stands on the floor.

Sizes left unset follow the subject's size ``S`` (the longer side of its box): drop offset
``(0.02 S, 0.03 S)``, drop blur ``0.03 S``; contact offset ``(0, 0.01 S)``, contact blur
``0.02 S``. The blur is a Gaussian of sigma ``blur / 2``. The shadow is black at
``opacity * shadow matte``; it darkens the background (or, with no background, becomes a
semi-transparent black under the subject), and the subject goes over it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alphacut.types import RGB, Alpha

SOLID = 0.5  # alpha at or above this is the subject, for its box and base
CONTACT_SQUASH = 0.08
CONTACT_MIN_PART = 0.05
FINE_SIGMA = 4.0  # px: wider blurs run on a shrunk matte
DEFAULTS = {"drop": ((0.02, 0.03), 0.03), "contact": ((0.0, 0.01), 0.02)}


@dataclass(frozen=True)
class ShadowParams:
    """One shadow: ``kind`` drop/contact, ``offset`` (x, y) px or None (from the subject's
    size), ``blur`` px or None (likewise), ``opacity`` in [0, 1]."""

    kind: str
    offset: tuple[float, float] | None = None
    blur: float | None = None
    opacity: float = 0.5


def params_from(output: Any) -> ShadowParams | None:
    """The shadow an ``OutputOptions`` asks for, or None (no shadow, or a mask output)."""
    from alphacut.core.finish.offset import parse_offset

    if output.shadow in (None, "none") or output.mask_only or output.shadow_opacity <= 0:
        return None
    offset = parse_offset(output.shadow_offset) if output.shadow_offset is not None else None
    return ShadowParams(output.shadow, offset, output.shadow_blur, float(output.shadow_opacity))


def sizes(params: ShadowParams, size: float) -> tuple[float, float, float]:
    """``(dx, dy, blur)`` px of a shadow under a subject whose box's longer side is ``size``."""
    (fx, fy), fblur = DEFAULTS[params.kind]
    dx, dy = params.offset if params.offset is not None else (fx * size, fy * size)
    blur = params.blur if params.blur is not None else fblur * size
    return float(dx), float(dy), float(blur)


def reach(params: ShadowParams, size: float) -> tuple[int, int, int, int]:
    """How far ``(top, right, bottom, left)`` px the shadow can fall past the subject's box
    (its offset plus three sigmas of its blur): the room a crop must leave for it."""
    dx, dy, blur = sizes(params, size)
    spread = 1.5 * blur  # sigma is blur / 2
    return tuple(int(np.ceil(max(0.0, d) + spread))  # type: ignore[return-value]
                 for d in (-dy, dx, dy, -dx))


def shadow_alpha(alpha: Alpha, params: ShadowParams) -> Alpha:
    """The shadow's coverage, ``float32 (H, W)`` in [0, opacity], from the matte ``alpha``
    (``float32 (H, W)`` in [0, 1]); all zero when there is no subject."""
    box = _solid_box(alpha)
    if box is None:
        return np.zeros_like(alpha)
    dx, dy, blur = sizes(params, float(max(box[1] - box[0], box[3] - box[2])))
    base = alpha if params.kind == "drop" else _squashed(alpha)
    shade = _blurred(_shifted(base, dx, dy), blur)
    return np.clip(shade * np.float32(params.opacity), 0.0, 1.0).astype(np.float32)


def _solid_box(alpha: Alpha) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the pixels with alpha >= SOLID, or None."""
    solid = alpha >= SOLID
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(solid.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _squashed(alpha: Alpha) -> Alpha:
    """Each subject (a connected part of the solid matte, at least ``CONTACT_MIN_PART`` of
    the largest) squashed vertically onto its own bottom row: ``float32 (H, W)``."""
    import cv2

    _, _, stats, _ = cv2.connectedComponentsWithStats((alpha >= SOLID).astype(np.uint8),
                                                      connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    out = np.zeros_like(alpha)
    for k in np.flatnonzero(areas >= CONTACT_MIN_PART * areas.max()) + 1:
        x0, y0, w, h = (int(v) for v in stats[k, :4])
        _squash_into(out, alpha, (y0, y0 + h, x0, x0 + w))
    return out


def _squash_into(out: Alpha, alpha: Alpha, box: tuple[int, int, int, int]) -> None:
    """``alpha[box]`` resized to ``CONTACT_SQUASH`` of its height, bottom-aligned in ``out``
    (the brighter value kept where parts overlap)."""
    import cv2

    y0, y1, x0, x1 = box
    height = max(2, round((y1 - y0) * CONTACT_SQUASH))
    patch = cv2.resize(np.ascontiguousarray(alpha[y0:y1, x0:x1]), (x1 - x0, height),
                       interpolation=cv2.INTER_AREA)
    top = max(0, y1 - height)
    region = out[top:y1, x0:x1]
    np.maximum(region, patch[height - (y1 - top):], out=region)


def _shifted(alpha: Alpha, dx: float, dy: float) -> Alpha:
    """``alpha`` moved by (dx, dy) pixels (sub-pixel: bilinear), zero where nothing moves in."""
    if dx == 0 and dy == 0:
        return alpha
    import cv2

    h, w = alpha.shape
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(alpha, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _blurred(alpha: Alpha, blur: float) -> Alpha:
    """Gaussian blur of sigma ``blur / 2`` (none below 0.25 px). A wide blur runs on the
    matte shrunk so its sigma is ``FINE_SIGMA`` px, then is scaled back: a shadow has no
    detail to lose, and 12 MP with sigma 60 px costs a fraction of the full-size kernel."""
    if blur < 0.5:
        return alpha
    import cv2

    sigma = blur / 2.0
    factor = sigma / FINE_SIGMA
    if factor <= 2.0:
        return cv2.GaussianBlur(alpha, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_CONSTANT)
    h, w = alpha.shape
    small = cv2.resize(alpha, (max(1, round(w / factor)), max(1, round(h / factor))),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=FINE_SIGMA, borderType=cv2.BORDER_CONSTANT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def stack(fg: RGB, alpha: Alpha, shade: Alpha, bg: RGB | None = None,
          bg_alpha: float = 1.0) -> np.ndarray:
    """Subject over black shadow over background, as "over" of straight-alpha layers.

    ``fg`` ``uint8 (H, W, 3)`` with ``alpha`` ``float32 (H, W)``; ``shade`` the shadow's
    coverage ``float32 (H, W)``; ``bg`` ``uint8 (H, W, 3)`` of opacity ``bg_alpha`` (None:
    transparent). Returns ``uint8 (H, W, 3)`` when the background is opaque, else
    ``uint8 (H, W, 4)`` (colour under alpha 0 black).
    """
    a = alpha[..., None]
    s = shade[..., None]
    ab = 0.0 if bg is None else float(bg_alpha)
    premult = fg.astype(np.float32) * a
    if bg is not None and ab > 0:
        premult += (1.0 - a) * (1.0 - s) * (bg.astype(np.float32) * ab)
    if ab >= 1.0:
        return np.clip(premult + 0.5, 0, 255).astype(np.uint8)
    out_a = a + (1.0 - a) * (s + (1.0 - s) * ab)
    colour = np.divide(premult, out_a, out=np.zeros_like(premult), where=out_a > 0)
    rgb = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
    from alphacut.core.cutout import alpha_to_u8

    return np.dstack([rgb, alpha_to_u8(out_a[..., 0])])
