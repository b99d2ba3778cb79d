"""``--format psd``: a layered Photoshop file, written with psd-tools (the ``psd`` extra).

Layers, bottom to top:

1. ``Background``: the new background (``--bg`` colour or image), only when one is given;
2. ``Shadow``: black, its transparency the synthesised shadow, only with ``--shadow``;
3. ``Photo``: the original photo, untouched, with the matte as its **layer mask** (uint8,
   equal to the alpha of a PNG cut-out): paint on the mask to fix the cut-out;
4. ``Cut-out (clean colours)``: the decontaminated cut-out, **hidden**. Hidden because a
   visible copy above the photo would cover every mask edit; switch it on for cleaner edge
   colours once the mask is final.

The file is 8-bit RGB, with transparency when there is no opaque background. psd-tools (MIT,
maintained, on PyPI) writes pixel layers and layer masks since 1.10; it is imported only here.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from alphacut.errors import InvalidOption, OutputError
from alphacut.types import RGB, Result

NAMES = ("Background", "Shadow", "Photo", "Cut-out (clean colours)")


def render_psd(result: Result, output: Any, background: RGB | None = None) -> bytes:
    """The layered PSD of ``result`` as ``output`` asks (feather, shadow, background)."""
    psd_tools = _import_psd_tools()
    from alphacut.core.cutout import alpha_to_u8, cutout
    from alphacut.engine.stages import finish_feather, finish_shadow, shadow_backdrop

    height, width = result.alpha.shape
    alpha = finish_feather(result.alpha, output)
    shade = finish_shadow(alpha, output)
    bg, opacity = shadow_backdrop(output, background, height, width)
    psd = psd_tools.PSDImage.new("RGB" if opacity >= 1.0 else "RGBA", (width, height), depth=8)
    layer = psd_tools.api.layers.PixelLayer
    if bg is not None:
        pixels = bg if opacity >= 1.0 else np.dstack([bg, np.full((height, width),
                                                                  round(opacity * 255),
                                                                  np.uint8)])
        layer.fromarray(pixels, psd, name=NAMES[0])
    if shade is not None:
        black = np.zeros((height, width, 4), np.uint8)
        black[..., 3] = alpha_to_u8(shade)
        layer.fromarray(black, psd, name=NAMES[1])
    photo = layer.fromarray(np.ascontiguousarray(result.image), psd, name=NAMES[2])
    from PIL import Image

    photo.create_mask(Image.fromarray(alpha_to_u8(alpha), mode="L"))
    clean = layer.fromarray(cutout(result.foreground, alpha), psd, name=NAMES[3])
    clean.visible = False
    return _save(psd, width, height)


def _import_psd_tools() -> Any:
    try:
        import psd_tools
        import psd_tools.api.layers
    except ImportError as exc:
        raise InvalidOption("writing psd needs psd-tools: pip install 'alphacut[psd]'") from exc
    return psd_tools


def _save(psd: Any, width: int, height: int) -> bytes:
    buf = io.BytesIO()
    try:
        psd.save(buf)
    except (OSError, ValueError, OverflowError) as exc:
        raise OutputError(f"could not write a {width}x{height} psd: {exc}") from exc
    return buf.getvalue()
