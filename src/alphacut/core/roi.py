"""Region of interest (a box prompt): only the subject inside the box is kept.

The box is remove.bg's ``roi``: four coordinates ``x1 y1 x2 y2`` (commas or spaces between
them), each in pixels (``120``, ``120px``) or in percent of the image's width (x) or height (y)
(``25%``); ``0% 0% 100% 100%`` is the whole image. ``x2``/``y2`` are the far edges: the box
covers columns ``x1 .. x2 - 1``.

The model then runs on a crop around the box (the box plus a context margin, clamped to the
image) at the model's own resolution, so a small subject in a big photo gets many more model
pixels than in the whole-frame pass; the crop's mask is pasted back into the full frame with
zeros outside the box.

Parsing is pure Python (the CLI builds its config without numpy); the pixel work imports numpy
inside the functions that need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alphacut.errors import InvalidOption

if TYPE_CHECKING:
    from alphacut.types import Mask

CONTEXT = 0.2  # context margin on each side, as a fraction of the box's longer side
_COORD = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(px|%)?$", re.IGNORECASE)
_FORMAT = "x1,y1,x2,y2 (each in px or %, e.g. '10%,20%,60%,90%' or '40px 30px 400px 380px')"


@dataclass(frozen=True)
class Coord:
    """One coordinate: ``value`` in pixels, or in percent when ``percent``."""

    value: float
    percent: bool

    def to_px(self, extent: int) -> float:
        return self.value * extent / 100.0 if self.percent else self.value


@dataclass(frozen=True)
class Box:
    """A pixel box ``[x1, x2) x [y1, y2)`` in full-image coordinates."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(rows, columns)`` for indexing an ``(H, W, ...)`` array."""
        return slice(self.y1, self.y2), slice(self.x1, self.x2)

    def inside(self, outer: Box) -> Box:
        """This box in the coordinates of ``outer`` (which contains it)."""
        return Box(self.x1 - outer.x1, self.y1 - outer.y1, self.x2 - outer.x1,
                   self.y2 - outer.y1)


def parse_roi(text: str) -> tuple[Coord, Coord, Coord, Coord]:
    """``"x1,y1,x2,y2"`` -> four coordinates; ``InvalidOption`` when malformed or when a
    percent is over 100 or a pair in one unit is not increasing."""
    if not isinstance(text, str):
        raise InvalidOption(f"roi must be a string {_FORMAT}, not {type(text).__name__}")
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if len(parts) != 4:
        raise InvalidOption(f"roi must be four coordinates {_FORMAT}, not {text!r}")
    coords = []
    for part in parts:
        match = _COORD.match(part)
        if match is None:
            raise InvalidOption(f"roi coordinate {part!r} is not a number in px or %; "
                                f"expected {_FORMAT}")
        coord = Coord(float(match.group(1)), match.group(2) == "%")
        if coord.percent and coord.value > 100.0:
            raise InvalidOption(f"roi coordinate {part!r} is over 100%")
        coords.append(coord)
    x1, y1, x2, y2 = coords
    for low, high, axis in ((x1, x2, "x"), (y1, y2, "y")):
        if low.percent == high.percent and high.value <= low.value:
            raise InvalidOption(f"roi {text!r} has zero or negative {axis} extent "
                                f"({axis}2 must be greater than {axis}1)")
    return x1, y1, x2, y2


def resolve(text: str, width: int, height: int) -> Box:
    """The roi ``text`` as a pixel box in a ``width`` x ``height`` image. ``InvalidOption``
    when it reaches outside the image or covers no whole pixel."""
    x1, y1, x2, y2 = parse_roi(text)
    fx1, fx2 = x1.to_px(width), x2.to_px(width)
    fy1, fy2 = y1.to_px(height), y2.to_px(height)
    if fx2 > width or fy2 > height:
        raise InvalidOption(f"roi {text!r} reaches outside the {width}x{height} image")
    box = Box(round(fx1), round(fy1), round(fx2), round(fy2))
    if box.width <= 0 or box.height <= 0:
        raise InvalidOption(f"roi {text!r} covers no pixels of the {width}x{height} image")
    return box


def context_box(box: Box, width: int, height: int, margin: float = CONTEXT) -> Box:
    """``box`` grown by ``margin`` x its longer side on every side, clamped to the image: the
    crop the model sees."""
    pad = round(margin * max(box.width, box.height))
    return Box(max(0, box.x1 - pad), max(0, box.y1 - pad), min(width, box.x2 + pad),
               min(height, box.y2 + pad))


def paste(crop_mask: Mask, crop: Box, roi: Box, size: tuple[int, int]) -> Mask:
    """A crop's mask ``float32 (crop.height, crop.width)`` -> the full frame ``float32 (H, W)``
    (``size`` = (H, W)), zero outside ``roi``."""
    import numpy as np

    full = np.zeros(size, dtype=np.float32)
    inner = roi.inside(crop)
    full[roi.slices] = crop_mask[inner.slices]
    return full


def keep_inside(alpha: Mask, roi: Box) -> Mask:
    """``alpha`` ``float32 (h, w)`` with every pixel outside ``roi`` (in its coordinates) set
    to 0, in place; returns it."""
    alpha[: roi.y1] = 0.0
    alpha[roi.y2:] = 0.0
    alpha[:, : roi.x1] = 0.0
    alpha[:, roi.x2:] = 0.0
    return alpha
