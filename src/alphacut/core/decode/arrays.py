"""Numpy input: ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` arrays of ``uint8``,
``uint16`` or float in [0, 1] become a ``Decoded`` (never aliasing the caller's buffer)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from alphacut.core.decode.convert import alpha_from_u8, gray_to_rgb
from alphacut.core.decode.open import check_pixels
from alphacut.errors import InvalidImage, UnsupportedImage
from alphacut.types import Alpha, Decoded, ImageMeta


def decode_array(a: np.ndarray, max_pixels: int) -> Decoded:
    """Decode a numpy array: ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise UnsupportedImage(
            f"array of shape {a.shape} is not an image: expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    height, width = a.shape[:2]
    if height == 0 or width == 0:
        raise InvalidImage(f"empty input: array of shape {a.shape}")
    check_pixels((width, height), max_pixels, "array")
    u8 = _array_to_u8(a)
    alpha = None
    if a.ndim == 2:
        rgb, mode = gray_to_rgb(u8), "L"
    else:
        rgb, mode = np.ascontiguousarray(u8[:, :, :3]), "RGB" if a.shape[2] == 3 else "RGBA"
        if np.may_share_memory(rgb, a):  # never hand back the caller's own buffer
            rgb = rgb.copy()
        if a.shape[2] == 4:
            alpha = _array_alpha(a[:, :, 3])
    return Decoded(rgb=rgb, alpha=alpha, meta=ImageMeta(width, height, None, mode))


def _array_to_u8(a: np.ndarray) -> npt.NDArray[np.uint8]:
    """``uint8`` as is, ``uint16`` 0..65535 -> 0..255, float [0, 1] -> 0..255."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        x = _checked_float(a)
        return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raise UnsupportedImage(
        f"array dtype {a.dtype} is not supported: use uint8, uint16 or float in [0, 1]"
    )


def _checked_float(a: np.ndarray) -> npt.NDArray[np.float32]:
    """Float samples as ``float32``; raise InvalidImage unless finite and within [0, 1]."""
    x = a.astype(np.float32, copy=False)
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -1e-3 or hi > 1.0 + 1e-3:
        raise InvalidImage(f"float array values must be finite and in [0, 1]; got {lo}..{hi}")
    return x


def _array_alpha(a: np.ndarray) -> Alpha | None:
    """An array's alpha channel as ``float32 (H, W)`` in [0, 1], or None if fully opaque."""
    if a.dtype == np.uint8:
        return alpha_from_u8(a)
    if a.dtype == np.uint16:
        alpha = a.astype(np.float32) / np.float32(65535.0)
    else:
        alpha = np.clip(_checked_float(a), 0.0, 1.0).astype(np.float32, copy=True)
    return None if float(alpha.min()) >= 1.0 else alpha
