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
MAX_SIDE = 30000  # a PSD's limit (PSB goes further; psd-tools writes PSD)


def render_psd(result: Result, output: Any, background: RGB | None = None) -> bytes:
    """The layered PSD of ``result`` as ``output`` asks (feather, layout, shadow,
    background)."""
    psd_tools = _import_psd_tools()
    from alphacut.core.cutout import alpha_to_u8
    from alphacut.core.finish.steps import backdrop, laid_out, shadow_of

    result = laid_out(result, output)  # feather, crop, canvas: every layer alike
    alpha = result.alpha
    height, width = alpha.shape
    if max(height, width) > MAX_SIDE:
        raise InvalidOption(f"psd cannot store a {width}x{height} image (max side {MAX_SIDE}); "
                            "use png or tiff")
    shade = shadow_of(alpha, output)
    bg, opacity = backdrop(output, background, height, width)
    psd = psd_tools.PSDImage.new("RGB" if opacity >= 1.0 else "RGBA", (width, height), depth=8)
    layer = psd_tools.api.layers.PixelLayer
    if bg is not None:
        layer.fromarray(_with_opacity(bg, opacity), psd, name=NAMES[0])
    if shade is not None:
        layer.fromarray(_black(alpha_to_u8(shade)), psd, name=NAMES[1])
    _add_photo_and_cutout(psd, layer, result, alpha_to_u8(alpha))
    _use_merged_image(psd, _merged(result.image, alpha_to_u8(alpha), shade, bg, opacity))
    return _save(psd, width, height)


def _with_opacity(rgb: RGB, opacity: float) -> np.ndarray:
    """``rgb`` as is when opaque, else ``uint8 (H, W, 4)`` with ``opacity`` as its alpha."""
    if opacity >= 1.0:
        return rgb
    return np.dstack([rgb, np.full(rgb.shape[:2], round(opacity * 255), np.uint8)])


def _black(cover: np.ndarray) -> np.ndarray:
    """Black ``uint8 (H, W, 4)`` whose alpha is ``cover`` ``uint8 (H, W)``."""
    black = np.zeros((*cover.shape, 4), np.uint8)
    black[..., 3] = cover
    return black


def _add_photo_and_cutout(psd: Any, layer: Any, result: Result, a8: np.ndarray) -> None:
    """The photo with ``a8`` (``uint8 (H, W)``) as its layer mask, then the hidden clean
    cut-out with ``a8`` as its transparency."""
    from PIL import Image

    from alphacut.core.cutout import cutout

    photo = layer.fromarray(np.ascontiguousarray(result.image), psd, name=NAMES[2])
    photo.create_mask(Image.fromarray(a8))
    clean = layer.fromarray(cutout(result.foreground, a8 / np.float32(255.0)), psd,
                            name=NAMES[3])
    clean.visible = False


def _merged(photo: RGB, a8: np.ndarray, shade: np.ndarray | None, bg: RGB | None,
            opacity: float) -> np.ndarray:
    """What the visible layers make: the masked photo over the shadow over the background,
    ``uint8 (H, W, 3)`` (opaque background) or ``(H, W, 4)``."""
    from alphacut.core.finish.shadow import stack

    alpha = a8 / np.float32(255.0)
    return stack(photo, alpha, np.zeros_like(alpha) if shade is None else shade, bg, opacity)


def _import_psd_tools() -> Any:
    try:
        import psd_tools
        import psd_tools.api.layers
    except ImportError as exc:
        raise InvalidOption("writing psd needs psd-tools: pip install 'alphacut[psd]'") from exc
    return psd_tools


def _use_merged_image(psd: Any, merged: np.ndarray) -> None:
    """Store ``merged`` (``uint8 (H, W, 3|4)``, what the visible layers make) as the file's
    merged image instead of letting psd-tools re-render every layer on save (12 MP: ~75% of
    the PSD's time). Reaches into psd-tools' save step; if that ever changes, psd-tools'
    own rendering runs as before."""
    original = getattr(psd, "_update_preview", None)
    if original is None:
        return

    def update() -> None:
        try:
            from psd_tools.api import numpy_io

            rgb = merged[..., :3].astype(np.float32) / 255.0
            cover = (merged[..., 3:].astype(np.float32) / 255.0 if merged.shape[2] == 4
                     else np.ones((*merged.shape[:2], 1), np.float32))
            planes = numpy_io.encode_image_data(psd, rgb, cover)
            psd._record.image_data.set_data(planes, psd._record.header)
        except (AttributeError, ImportError, TypeError, ValueError):
            original()

    psd._update_preview = update


def _save(psd: Any, width: int, height: int) -> bytes:
    buf = io.BytesIO()
    try:
        psd.save(buf)
    except (OSError, ValueError, OverflowError) as exc:
        raise OutputError(f"could not write a {width}x{height} psd: {exc}") from exc
    return buf.getvalue()
