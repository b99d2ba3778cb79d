"""The ``x,y`` pixel offset of ``--shadow-offset``. Stdlib only: the config validates with it."""

from __future__ import annotations

import math

from alphacut.errors import InvalidOption

MAX_OFFSET = 100_000.0


def parse_offset(text: str) -> tuple[float, float]:
    """``"12,-4"`` -> ``(12.0, -4.0)`` (x right, y down, pixels); ``InvalidOption`` otherwise."""
    if not isinstance(text, str):
        raise InvalidOption(f"shadow_offset must be text 'x,y', not {type(text).__name__}")
    parts = text.replace(" ", "").split(",")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise InvalidOption(f"shadow_offset must be 'x,y' in pixels (e.g. 12,8), not "
                            f"{text[:40]!r}") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_OFFSET for v in (x, y)):
        raise InvalidOption(f"shadow_offset values must be within -{MAX_OFFSET:g}.."
                            f"{MAX_OFFSET:g} pixels, not {text[:40]!r}")
    return x, y
