"""Parse the marketplace layout options (``size``, ``scale``, ``position``, ``crop_margin``).

Light on purpose (no numpy): the config validates with it when ``alphacut --help`` builds its
flags. Values follow remove.bg's API: ``crop_margin`` takes 1, 2 or 4 values (CSS order top,
right, bottom, left), each in px (``30px`` or a bare number) or ``%`` of the subject box's
height (top, bottom) or width (left, right); ``scale`` is the share of the canvas the
subject's box fills along its tighter side; ``position`` places that box in the canvas's free
space (``0%`` left/top .. ``100%`` right/bottom), ``original`` keeps its place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from alphacut.errors import InvalidOption

MAX_MARGIN_PX = 100_000
MAX_CANVAS_SIDE = 30_000
_NUMBER = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(px|%)?$")
ORIGINAL = "original"
_NAMED_POSITIONS = {"center": (50.0, 50.0), "centre": (50.0, 50.0), "bottom": (50.0, 100.0),
                    "top": (50.0, 0.0)}


@dataclass(frozen=True)
class Length:
    """A length in pixels, or a percentage of something (``percent=True``)."""

    value: float
    percent: bool

    def resolve(self, whole: float) -> float:
        """Pixels: the value itself, or its share of ``whole`` pixels."""
        return self.value * whole / 100.0 if self.percent else self.value


def _split(text: str) -> list[str]:
    return [p for p in re.split(r"[\s,]+", text.strip().lower()) if p]


def _length(name: str, text: str) -> Length:
    match = _NUMBER.match(text)
    if not match:
        raise InvalidOption(f"{name}: {text!r} is not a length (like 30px, 30 or 10%)")
    value = float(match.group(1))
    return Length(value, match.group(2) == "%")


def parse_margin(value: Any) -> tuple[Length, Length, Length, Length]:
    """``crop_margin`` -> (top, right, bottom, left); an int means pixels on every side."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidOption(f"crop_margin must be pixels or text like '10px', '5%' or "
                            f"'10px 5%' (1, 2 or 4 values), not {type(value).__name__}")
    parts = [str(value)] if isinstance(value, int) else _split(value)
    if len(parts) not in (1, 2, 4):
        raise InvalidOption(f"crop_margin takes 1, 2 or 4 values (top right bottom left), "
                            f"not {len(parts)}")
    lengths = [_length("crop_margin", p) for p in parts]
    for length in lengths:
        limit = 100.0 if length.percent else MAX_MARGIN_PX
        if length.value > limit:
            raise InvalidOption(f"crop_margin values must be within 0..{MAX_MARGIN_PX}px or "
                                "0..100%")
    if len(lengths) == 1:
        lengths *= 4
    elif len(lengths) == 2:
        lengths *= 2
    top, right, bottom, left = lengths
    return top, right, bottom, left


def parse_size(value: Any) -> tuple[int, int] | None:
    """``"WxH"`` -> (width, height) in pixels; None or ``original`` -> None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOption(f"size must be text like '1000x1000', not {type(value).__name__}")
    text = value.strip().lower()
    if text in ("", "original", "none"):
        return None
    match = re.match(r"^([0-9]{1,6})\s*[x×]\s*([0-9]{1,6})$", text)
    if not match:
        raise InvalidOption(f"size must be WIDTHxHEIGHT in pixels (like 1000x1000), "
                            f"not {value!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= MAX_CANVAS_SIDE and 1 <= height <= MAX_CANVAS_SIDE):
        raise InvalidOption(f"size sides must be within 1..{MAX_CANVAS_SIDE} pixels")
    return width, height


def parse_scale(value: Any) -> float | None:
    """``"80%"`` (or 80) -> 0.8; None or ``original`` -> None. Range 1%..100%."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidOption(f"scale must be a percentage like '80%', not {type(value).__name__}")
    text = str(value).strip().lower()
    if text in ("", "original", "none"):
        return None
    match = _NUMBER.match(text)
    if not match or match.group(2) == "px":
        raise InvalidOption(f"scale must be a percentage like '80%', not {value!r}")
    percent = float(match.group(1))
    if not (math.isfinite(percent) and 1.0 <= percent <= 100.0):
        raise InvalidOption(f"scale must be within 1%..100%, not {value!r}")
    return percent / 100.0


def parse_position(value: Any) -> tuple[float, float] | str | None:
    """``center``/``bottom``/``top``/``"x,y"``/``"x"`` (percent of the free space, 0..100)
    -> (x, y) fractions in [0, 1]; ``original`` -> ``"original"`` (keep the place); None
    (not given) -> None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOption(f"position must be text like 'center' or '50%,100%', not "
                            f"{type(value).__name__}")
    text = value.strip().lower()
    if text in ("", "none"):
        return None
    if text == "original":
        return ORIGINAL
    if text in _NAMED_POSITIONS:
        x, y = _NAMED_POSITIONS[text]
        return x / 100.0, y / 100.0
    parts = _split(text)
    if len(parts) not in (1, 2):
        raise InvalidOption(f"position must be center, bottom, top, original or 'x,y' in % "
                            f"of the free space, not {value!r}")
    lengths = [_length("position", p) for p in parts]
    if any(not 0.0 <= p.value <= 100.0 or text.endswith("px") for p, text in
           zip(lengths, parts, strict=True)):
        raise InvalidOption(f"position values are percentages of the free space within "
                            f"0%..100%, not {value!r}")
    x = lengths[0].value / 100.0
    y = (lengths[1] if len(lengths) == 2 else lengths[0]).value / 100.0
    return x, y


def check(size: Any, scale: Any, position: Any, crop_margin: Any) -> None:
    """Raise ``InvalidOption`` if any layout option does not parse."""
    parse_size(size)
    parse_scale(scale)
    parse_position(position)
    parse_margin(crop_margin)
