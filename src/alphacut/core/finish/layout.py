"""Marketplace layout: crop with margins, then a new canvas (``size``), the subject's box scaled
to a share of it (``scale``) and placed (``position``).

Everything moves alpha and foreground together as one scale-and-shift of the (cropped)
picture, at full resolution, resampled premultiplied (so edges keep their colour, not black):
area filter when shrinking, bicubic when enlarging. Meanings follow remove.bg's API (see
``layout_spec``):

- ``crop``: the picture becomes the subject's box plus ``crop_margin``; margins reaching past
  the photo add transparent pixels. Without ``crop`` the margin does nothing.
- The *box* placed is that crop when cropping, else the subject's tight box.
- ``size``: the canvas (default: the picture's size). Without ``scale`` the picture is fitted
  inside the canvas, keeping its aspect.
- ``scale``: the box's factor so it fills that share of the canvas along its tighter side.
- ``position``: the box's place in the canvas's free space, ``(0, 0)`` top left ..
  ``(1, 1)`` bottom right. ``original`` keeps the box's centre where the fitted picture has
  it; the default is ``center`` when ``scale`` is given, else ``original``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from alphacut.core.composite import CROP_THRESHOLD
from alphacut.core.finish.layout_spec import (
    ORIGINAL,
    parse_margin,
    parse_position,
    parse_scale,
    parse_size,
)
from alphacut.types import RGB, Alpha

Box = tuple[int, int, int, int]
"""(y0, y1, x0, x1), end-exclusive; may reach past the picture (negative or beyond)."""


@dataclass(frozen=True)
class Placement:
    """Where the picture lands: canvas ``(height, width)``, the picture's scale factor and
    where its top-left pixel corner goes ``(y, x)`` in canvas pixels."""

    canvas: tuple[int, int]
    factor: float
    offset: tuple[float, float]


def tight_box(alpha: Alpha) -> Box | None:
    """The box of pixels with alpha above ``CROP_THRESHOLD``; None when there is none."""
    solid = alpha > CROP_THRESHOLD
    rows = np.flatnonzero(solid.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(solid.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def margin_box(box: Box, crop_margin: Any) -> Box:
    """``box`` grown by ``crop_margin`` (px, or % of the box's height/width per side)."""
    top, right, bottom, left = parse_margin(crop_margin)
    y0, y1, x0, x1 = box
    height, width = y1 - y0, x1 - x0
    return (y0 - round(top.resolve(height)), y1 + round(bottom.resolve(height)),
            x0 - round(left.resolve(width)), x1 + round(right.resolve(width)))


def cut(alpha: Alpha, fg: RGB, box: Box) -> tuple[Alpha, RGB]:
    """The ``box`` of alpha ``float32 (H, W)`` and foreground ``uint8 (H, W, 3)``; parts past
    the picture are transparent (alpha 0, black)."""
    y0, y1, x0, x1 = box
    h, w = alpha.shape
    if y0 >= 0 and x0 >= 0 and y1 <= h and x1 <= w:
        return np.ascontiguousarray(alpha[y0:y1, x0:x1]), np.ascontiguousarray(fg[y0:y1, x0:x1])
    out_a = np.zeros((y1 - y0, x1 - x0), np.float32)
    out_f = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    sy0, sy1, sx0, sx1 = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
    if sy0 < sy1 and sx0 < sx1:
        out_a[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = alpha[sy0:sy1, sx0:sx1]
        out_f[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = fg[sy0:sy1, sx0:sx1]
    return out_a, out_f


def place(picture: tuple[int, int], box: Box, size: tuple[int, int] | None,
          scale: float | None, position: tuple[float, float] | str | None) -> Placement:
    """The scale and shift that put ``box`` (inside a picture of ``(height, width)``) on the
    canvas as asked (module docstring)."""
    ph, pw = picture
    ch, cw = (size[1], size[0]) if size is not None else (ph, pw)
    fit = min(ch / ph, cw / pw)
    y0, y1, x0, x1 = box
    bh, bw = y1 - y0, x1 - x0
    factor = fit if scale is None else scale * min(ch / bh, cw / bw)
    if position is None:
        position = (0.5, 0.5) if scale is not None else ORIGINAL
    if isinstance(position, str):  # original: the box's centre where the fitted picture has it
        cy = (ch - fit * ph) / 2 + fit * (y0 + y1) / 2
        cx = (cw - fit * pw) / 2 + fit * (x0 + x1) / 2
        top, left = cy - factor * bh / 2, cx - factor * bw / 2
    else:
        left, top = position[0] * (cw - factor * bw), position[1] * (ch - factor * bh)
    return Placement((ch, cw), factor, (top - factor * y0, left - factor * x0))


def render(alpha: Alpha, fg: RGB, where: Placement) -> tuple[Alpha, RGB]:
    """The picture scaled and shifted onto the canvas: alpha ``float32 (h, w)`` in [0, 1],
    foreground ``uint8 (h, w, 3)`` (black where nothing lands)."""
    ch, cw = where.canvas
    f, (oy, ox) = where.factor, where.offset
    out_a = np.zeros((ch, cw), np.float32)
    out_f = np.zeros((ch, cw, 3), np.uint8)
    ph, pw = alpha.shape
    # the source pixels that land on the canvas, with one pixel of filter support around
    sy0, sy1 = _source_span(oy, f, ch, ph)
    sx0, sx1 = _source_span(ox, f, cw, pw)
    if sy0 >= sy1 or sx0 >= sx1:
        return out_a, out_f
    dy0, dy1 = round(oy + f * sy0), round(oy + f * sy1)
    dx0, dx1 = round(ox + f * sx0), round(ox + f * sx1)
    if dy1 <= dy0 or dx1 <= dx0:
        return out_a, out_f
    a, colour = _resized(alpha[sy0:sy1, sx0:sx1], fg[sy0:sy1, sx0:sx1], (dy1 - dy0, dx1 - dx0),
                         f)
    ty0, ty1, tx0, tx1 = max(dy0, 0), min(dy1, ch), max(dx0, 0), min(dx1, cw)
    if ty0 < ty1 and tx0 < tx1:
        out_a[ty0:ty1, tx0:tx1] = a[ty0 - dy0:ty1 - dy0, tx0 - dx0:tx1 - dx0]
        out_f[ty0:ty1, tx0:tx1] = colour[ty0 - dy0:ty1 - dy0, tx0 - dx0:tx1 - dx0]
    return out_a, out_f


def _source_span(offset: float, factor: float, canvas: int, picture: int) -> tuple[int, int]:
    """Source pixel rows (or columns) ``[start, stop)`` that land within ``canvas``."""
    start = int(np.floor((0 - offset) / factor)) - 1
    stop = int(np.ceil((canvas - offset) / factor)) + 1
    return max(start, 0), min(stop, picture)


def _resized(alpha: Alpha, fg: RGB, shape: tuple[int, int], factor: float) -> tuple[Alpha, RGB]:
    """(alpha, foreground) resized to ``shape`` ``(h, w)``, colour resampled premultiplied."""
    if shape == alpha.shape:
        return alpha, fg
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    size = (shape[1], shape[0])
    a = np.clip(cv2.resize(alpha, size, interpolation=interp), 0.0, 1.0)
    premul = cv2.resize(fg.astype(np.float32) * alpha[..., None], size, interpolation=interp)
    colour = np.divide(premul, a[..., None], out=np.zeros_like(premul), where=a[..., None] > 0)
    return a, np.clip(colour + 0.5, 0, 255).astype(np.uint8)


def with_shadow_room(box: Box, tight: Box, output: Any) -> Box:
    """The crop ``box`` grown where the shadow ``output`` asks for would fall past it (so a
    crop never cuts the shadow off); ``tight`` is the subject's own box."""
    from alphacut.core.finish.shadow import params_from, reach

    params = params_from(output) if output.shadow not in (None, "none") else None
    if params is None:
        return box
    top, right, bottom, left = reach(params, float(max(tight[1] - tight[0],
                                                       tight[3] - tight[2])))
    return (min(box[0], tight[0] - top), max(box[1], tight[1] + bottom),
            min(box[2], tight[2] - left), max(box[3], tight[3] + right))


def asked(output: Any) -> bool:
    """Whether the output asks for any layout (crop, size, scale or position)."""
    return bool(output.crop) or any(
        parse(value) is not None for parse, value in ((parse_size, output.size),
                                                      (parse_scale, output.scale),
                                                      (parse_position, output.position)))


def arrange(alpha: Alpha, fg: RGB, output: Any) -> tuple[Alpha, RGB]:
    """Apply ``output``'s crop, crop_margin, size, scale and position (an ``OutputOptions``)
    to alpha ``float32 (H, W)`` and foreground ``uint8 (H, W, 3)``; unchanged if none."""
    if not asked(output):
        return alpha, fg
    box = tight_box(alpha)
    if output.crop and box is not None:
        box = with_shadow_room(margin_box(box, output.crop_margin), box, output)
        alpha, fg = cut(alpha, fg, box)
        box = (0, alpha.shape[0], 0, alpha.shape[1])
    if box is None:
        box = (0, alpha.shape[0], 0, alpha.shape[1])
    size, scale = parse_size(output.size), parse_scale(output.scale)
    position = parse_position(output.position)
    if size is None and scale is None and position is None:
        return alpha, fg
    return render(alpha, fg, place(alpha.shape, box, size, scale, position))
