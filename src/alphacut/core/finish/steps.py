"""The finishing steps as the output stage calls them: each takes the ``OutputOptions`` and
does nothing (returns its input, or None) when its option is off."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from alphacut.types import RGB, Alpha, Result


def feathered(alpha: Alpha, output: Any) -> Alpha:
    """The matte with ``--feather`` applied (the same array when it is off)."""
    if not output.feather:
        return alpha
    from alphacut.core.finish.feather import feather

    return feather(alpha, float(output.feather))


def laid_out(result: Result, output: Any) -> Result:
    """``result`` with ``--feather`` and the layout (crop, crop_margin, size, scale,
    position) applied to its matte, clean foreground and photo alike, as the layered outputs
    (PSD, ``--layers``) need them; ``soft`` stays at the photo's size. The same object when
    neither is asked."""
    from alphacut.core.finish import layout

    alpha = feathered(result.alpha, output)
    if not layout.asked(output):
        return result if alpha is result.alpha else dataclasses.replace(result, alpha=alpha)
    placed, foreground = layout.arrange(alpha, result.foreground, output)
    _, photo = layout.arrange(alpha, result.image, output)  # same matte: the same geometry
    return dataclasses.replace(result, alpha=placed, foreground=foreground, image=photo)


def shadow_of(alpha: Alpha, output: Any) -> Alpha | None:
    """The shadow's coverage ``float32 (H, W)`` in [0, 1] the output asks for, or None."""
    if output.shadow in (None, "none"):
        return None
    from alphacut.core.finish.shadow import params_from, shadow_alpha

    params = params_from(output)
    return None if params is None else shadow_alpha(alpha, params)


def backdrop(output: Any, background: RGB | None, height: int,
             width: int) -> tuple[RGB | None, float]:
    """The background under the shadow: ``uint8 (H, W, 3)`` (the image scaled to cover, or
    the flat colour) and its opacity in [0, 1]; ``(None, 0.0)`` for a transparent output."""
    from alphacut.core.composite import cover

    if background is not None:
        return cover(background, height, width), 1.0
    if output.bg_color is not None:
        r, g, b, a = output.bg_color
        flat = np.empty((height, width, 3), np.uint8)
        flat[...] = (r, g, b)
        return flat, a / 255.0
    return None, 0.0


def over_shadow(fg: RGB, alpha: Alpha, shade: Alpha, output: Any,
                background: RGB | None) -> np.ndarray:
    """Subject over its shadow over the background (or transparency): ``uint8 (H, W, 3|4)``."""
    from alphacut.core.finish.shadow import stack

    bg, opacity = backdrop(output, background, *alpha.shape)
    return stack(fg, alpha, shade, bg, opacity)
