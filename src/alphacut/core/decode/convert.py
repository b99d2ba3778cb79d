"""PIL image of any mode -> ``rgb uint8 (H, W, 3)`` + ``alpha float32 (H, W)`` or None.

Also EXIF orientation (applied so ``(H, W)`` is what a viewer shows) and the ICC profile,
kept only when lcms can parse it and it describes RGB data.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from alphacut.core.decode.open import check_pixels, library_errors
from alphacut.errors import UnsupportedImage
from alphacut.types import RGB, Alpha, Decoded, ImageMeta

ORIENTATION_TAG = 0x0112
# Modes whose samples are wider than 8 bits; PIL's convert() clips these instead of scaling.
_HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def decode_pil(im: Image.Image, max_pixels: int, label: str) -> Decoded:
    """Check size, load the first frame fully, orient it, and convert it to arrays."""
    check_pixels(im.size, max_pixels, label)
    with library_errors(label):
        frames = int(getattr(im, "n_frames", 1))
        im.load()
        source_format, source_mode = im.format, im.mode
        icc = im.info.get("icc_profile") or None
        im, rotated = _orient(im)
        rgb, alpha = _to_arrays(im, icc, label)
        icc = rgb_profile(icc)
    _check_arrays(rgb, alpha, label)
    height, width = rgb.shape[:2]
    meta = ImageMeta(
        width=width,
        height=height,
        source_format=source_format,
        source_mode=source_mode,
        icc_profile=icc,
        exif_rotated=rotated,
        frames=frames,
    )
    return Decoded(rgb=rgb, alpha=alpha, meta=meta)


def orientation(im: Image.Image) -> int:
    """The EXIF orientation (1..8); 1 when absent, invalid or unreadable."""
    try:
        value = im.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not make a readable image unreadable
        return 1
    return value if isinstance(value, int) and value in range(2, 9) else 1


def rgb_profile(icc: object) -> bytes | None:
    """``icc`` if it is an ICC profile lcms can parse whose data colour space is RGB, else None.

    A profile that does not parse (junk that merely starts like one) is dropped silently, as
    browsers do; so is a CMYK or grey one, which cannot describe the RGB output.
    """
    if not isinstance(icc, (bytes, bytearray)) or len(icc) < 128 or icc[16:20] != b"RGB ":
        return None
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space
    except Exception:  # lcms rejects it: not a usable profile
        return None
    return bytes(icc) if space == "RGB " else None


def gray_to_rgb(gray: npt.NDArray[np.uint8]) -> RGB:
    """``uint8 (H, W)`` -> ``uint8 (H, W, 3)`` C-contiguous."""
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def alpha_from_u8(a8: npt.NDArray[np.uint8]) -> Alpha | None:
    """``uint8 (H, W)`` -> ``float32 (H, W)`` in [0, 1], or None if fully opaque."""
    if a8.min() == 255:
        return None
    alpha = a8.astype(np.float32)
    alpha /= 255.0
    return alpha


def _orient(im: Image.Image) -> tuple[Image.Image, bool]:
    """Apply the EXIF orientation; return the image and whether it changed."""
    if orientation(im) == 1:
        return im, False
    return ImageOps.exif_transpose(im), True


def _to_arrays(im: Image.Image, icc: bytes | None, label: str) -> tuple[RGB, Alpha | None]:
    """Convert a loaded image of any mode to ``(rgb, alpha)``."""
    mode = im.mode
    alpha: Alpha | None = None
    if mode in _ALPHA_MODES or (mode in ("P", "L", "RGB", "1") and im.has_transparency_data):
        rgba = np.array(im if mode == "RGBA" else im.convert("RGBA"))
        rgb = np.ascontiguousarray(rgba[..., :3])
        alpha = alpha_from_u8(rgba[..., 3])
    elif mode in _HIGH_BIT_MODES:
        rgb = gray_to_rgb(_high_bit_to_u8(np.asarray(im), mode))
    elif mode == "CMYK":
        rgb = np.array(_cmyk_to_rgb(im, icc))
    else:
        rgb = np.array(im if mode == "RGB" else _convert(im, "RGB", label))
    return rgb, alpha


def _check_arrays(rgb: np.ndarray, alpha: np.ndarray | None, label: str) -> None:
    """Refuse what no valid decode gives: an empty or wrongly shaped result."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or 0 in rgb.shape:
        raise UnsupportedImage(f"{label}: decoded to an unusable array of shape {rgb.shape}")
    if alpha is not None and alpha.shape != rgb.shape[:2]:
        raise UnsupportedImage(f"{label}: alpha of shape {alpha.shape} does not match the image")


def _convert(im: Image.Image, mode: str, label: str) -> Image.Image:
    try:
        return im.convert(mode)
    except ValueError as e:
        raise UnsupportedImage(f"{label}: cannot convert mode {im.mode} to {mode}") from e


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """CMYK to sRGB through the embedded profile when there is a usable one, else naively."""
    if icc is not None and icc[16:20] == b"CMYK":
        from PIL import ImageCms

        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except Exception:  # broken profile: like browsers, ignore it
            converted = None
        if converted is not None:
            return converted
    return im.convert("RGB")


def _high_bit_to_u8(a: np.ndarray, mode: str) -> npt.NDArray[np.uint8]:
    """Scale 16-bit / 32-bit / float samples to ``uint8`` 0..255 (PIL would clip them).

    ``I;16*``: 0..65535 -> 0..255. ``I`` and ``F``: by the range the values occupy: [0, 1]
    (float only) -> x255; within 0..255 -> as is; within 0..65535 -> /257; otherwise the
    min..max range is stretched to 0..255. NaN and infinities count as 0.
    """
    x = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if mode.startswith("I;16"):
        scale, offset = 255.0 / 65535.0, 0.0
    else:
        scale, offset = _range_scale(x, is_float=mode == "F")
    x -= offset
    x *= scale
    x += 0.5
    return np.clip(x, 0, 255).astype(np.uint8)


def _range_scale(x: np.ndarray, *, is_float: bool) -> tuple[float, float]:
    """(scale, offset) so that ``(x - offset) * scale`` lands in 0..255."""
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0 and is_float and hi <= 1.0:
        return 255.0, 0.0
    if lo >= 0 and hi <= 255:
        return 1.0, 0.0
    if lo >= 0 and hi <= 65535:
        return 255.0 / 65535.0, 0.0
    return 255.0 / (hi - lo), lo
