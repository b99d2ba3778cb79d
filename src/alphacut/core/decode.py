"""Decode stage: turn any supported input into a ``Decoded`` image.

Input: a path, bytes, a binary file object, a ``PIL.Image.Image`` or a numpy array.
Output: ``rgb`` ``uint8 (H, W, 3)`` C-contiguous and writeable; ``alpha`` ``float32 (H, W)`` in
[0, 1], or ``None`` when the image has no alpha or its alpha is fully opaque; ``ImageMeta``.

EXIF orientation is applied, so ``(H, W)`` is the size a viewer shows. Only the first frame of an
animation is decoded. Every failure is a typed error from ``alphacut.errors``; no raw PIL or OS
error escapes.

Limits: the pixel count is checked after the header is read and before any pixel data is
decoded. PIL's own process-wide ``Image.MAX_IMAGE_PIXELS`` guard is left as it is (it is global
state): its warning is silenced inside a call, and its error becomes ``ImageTooLarge``. So a
``max_pixels`` above twice PIL's limit (about 179 MP by default) also needs PIL's limit raised.
``ImageFile.LOAD_TRUNCATED_IMAGES`` is not touched either: with PIL's default (``False``) a
truncated file raises ``InvalidImage``.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from alphacut.errors import ImageTooLarge, InvalidImage, UnsupportedImage
from alphacut.formats import DEFAULT_MAX_PIXELS
from alphacut.types import RGB, Alpha, Decoded, ImageMeta

Source = Union[
    str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, Image.Image, np.ndarray
]

_ORIENTATION_TAG = 0x0112
# Modes whose samples are wider than 8 bits; PIL's convert() clips these instead of scaling.
_HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# ISO-BMFF brands that pillow_heif reads; AVIF brands are read by Pillow itself when it can.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# Signatures of formats PIL reads: when PIL cannot identify such a file, it is corrupt.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
# What PIL raises on broken data, besides its own DecompressionBombError.
_PIL_DATA_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

_heif_registered = False


def decode(
    source: Source,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int | None = None,
) -> Decoded:
    """Decode ``source`` into RGB ``uint8 (H, W, 3)``, alpha ``float32 (H, W)`` or None, meta.

    ``max_pixels`` bounds ``W * H`` (checked before pixel data is decoded); ``max_bytes`` bounds
    the size of a path's file, a byte string or what a file object yields. Both raise
    ``ImageTooLarge``. Numpy arrays may be ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)``
    RGBA, of dtype ``uint8``, ``uint16`` or float in [0, 1].
    """
    if isinstance(source, np.ndarray):
        return _decode_array(source, max_pixels)
    if isinstance(source, Image.Image):
        return _decode_pil(source, max_pixels, "image")
    data, label = _read_bytes(source, max_bytes)
    im = _open(data, label)
    with im:
        if im.format == "PNG":
            _check_png_crcs(data, label)
        if im.format == "JPEG" and im.mode == "RGB":
            fast = _decode_jpeg(im, data, max_pixels, label)
            if fast is not None:
                return fast
        return _decode_pil(im, max_pixels, label)


# --- reading the source ---------------------------------------------------------------------


def _read_bytes(source: object, max_bytes: int | None) -> tuple[bytes, str]:
    """Return the encoded bytes of ``source`` and a label (file name) for error messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source) if not isinstance(source, bytes) else source
        _check_bytes(len(data), max_bytes, "input")
        return data, "input"
    if isinstance(source, (str, os.PathLike)):
        return _read_path(Path(source), max_bytes), str(source)
    if hasattr(source, "read"):
        return _read_file_object(source, max_bytes)
    raise UnsupportedImage(
        f"cannot decode an object of type {type(source).__name__}: pass a path, bytes, "
        "a binary file object, a PIL image or a numpy array"
    )


def _read_path(path: Path, max_bytes: int | None) -> bytes:
    """Read a whole file, with typed errors naming the path."""
    try:
        if path.is_dir():
            raise InvalidImage(f"{path}: is a directory, not an image file")
        size = path.stat().st_size
        _check_bytes(size, max_bytes, str(path))
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise InvalidImage(f"no such file: {path}") from e
    except OSError as e:
        raise InvalidImage(f"{path}: cannot read file ({e.strerror or e})") from e
    if not data:
        raise InvalidImage(f"empty input: {path} has zero bytes")
    return data


def _read_file_object(fileobj: BinaryIO, max_bytes: int | None) -> tuple[bytes, str]:
    """Read a binary file object (up to ``max_bytes + 1`` bytes when a limit is given)."""
    name = getattr(fileobj, "name", None)
    label = str(name) if isinstance(name, (str, os.PathLike)) else "input"
    try:
        data = fileobj.read() if max_bytes is None else fileobj.read(max_bytes + 1)
    except OSError as e:
        raise InvalidImage(f"{label}: cannot read file object ({e})") from e
    if isinstance(data, str):
        raise UnsupportedImage(f"{label}: file object is in text mode; open it with 'rb'")
    data = bytes(data)
    _check_bytes(len(data), max_bytes, label)
    return data, label


def _check_bytes(size: int, max_bytes: int | None, label: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise ImageTooLarge(f"{label}: input is larger than the limit of {max_bytes} bytes")


def _check_pixels(size: tuple[int, int], max_pixels: int, label: str) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{label}: image is {width}x{height} = {width * height} pixels, "
            f"over the limit of {max_pixels} pixels"
        )


# --- opening with PIL -----------------------------------------------------------------------


@contextmanager
def _pil_errors(label: str) -> Iterator[None]:
    """Map what PIL raises on bad data to typed errors; silence PIL's bomb *warning*."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            yield
        except Image.DecompressionBombError as e:
            raise ImageTooLarge(f"{label}: image too large ({e})") from e
        except UnidentifiedImageError:
            raise
        except _PIL_DATA_ERRORS as e:
            raise InvalidImage(f"{label}: corrupt or truncated image ({e})") from e


def _open(data: bytes, label: str) -> Image.Image:
    """Open (header only, no pixel data) with PIL; HEIF support is registered on demand."""
    if not data:
        raise InvalidImage(f"empty input: {label} has zero bytes")
    if _is_heif(data):
        _register_heif()
    try:
        return _pil_open(data, label)
    except UnidentifiedImageError as e:
        if _register_heif():
            try:
                return _pil_open(data, label)
            except UnidentifiedImageError:
                pass
        kind = _sniff(data)
        if kind is not None:
            raise InvalidImage(f"{label}: corrupt {kind} file (header unreadable)") from e
        raise UnsupportedImage(f"{label}: not an image, or a format alphacut cannot read") from e


def _pil_open(data: bytes, label: str) -> Image.Image:
    with _pil_errors(label):
        im = Image.open(io.BytesIO(data))
    if im.format == "EPS":  # PIL renders EPS by running Ghostscript: never on untrusted input
        im.close()
        raise UnsupportedImage(f"{label}: EPS/PostScript input is not supported")
    return im


def _check_png_crcs(data: bytes, label: str) -> None:
    """Raise InvalidImage if a critical PNG chunk fails its CRC (PIL skips IDAT CRCs).

    Stops quietly at a truncated chunk: loading the pixels reports truncation.
    """
    view = memoryview(data)
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(view[pos : pos + 4], "big")
        kind = bytes(view[pos + 4 : pos + 8])
        end = pos + 12 + length
        if end > len(data) or kind == b"IEND":
            return
        if kind in (b"IHDR", b"PLTE", b"IDAT"):
            stored = int.from_bytes(view[end - 4 : end], "big")
            if zlib.crc32(view[pos + 4 : end - 4]) != stored:
                raise InvalidImage(f"{label}: corrupt PNG file (bad CRC in {kind.decode()} chunk)")
        pos = end


def _sniff(data: bytes) -> str | None:
    """Name the format of ``data`` from its magic bytes, if it is one PIL reads."""
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _is_heif(data: bytes) -> bool:
    """True for an ISO-BMFF ``ftyp`` box with a HEIF brand (or AVIF when Pillow lacks it)."""
    if data[4:8] != b"ftyp":
        return False
    brand = data[8:12]
    return brand in _HEIF_BRANDS or (brand in _AVIF_BRANDS and not _pillow_reads_avif())


def _pillow_reads_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def _register_heif() -> bool:
    """Register pillow_heif's opener once; True if this call registered it."""
    global _heif_registered
    if _heif_registered:
        return False
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    _heif_registered = True
    return True


# --- PIL image to arrays --------------------------------------------------------------------


def _decode_pil(im: Image.Image, max_pixels: int, label: str) -> Decoded:
    """Check size, load the first frame fully, orient it, and convert it to arrays."""
    _check_pixels(im.size, max_pixels, label)
    with _pil_errors(label):
        frames = int(getattr(im, "n_frames", 1))
        im.load()
        source_format, source_mode = im.format, im.mode
        icc = im.info.get("icc_profile") or None
        im, rotated = _orient(im)
        rgb, alpha, icc = _to_arrays(im, icc, label)
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


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1..8); 1 when absent, invalid or unreadable."""
    try:
        orientation = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not make a readable image unreadable
        return 1
    return orientation if orientation in range(2, 9) else 1


def _orient(im: Image.Image) -> tuple[Image.Image, bool]:
    """Apply the EXIF orientation; return the image and whether it changed."""
    if _orientation(im) == 1:
        return im, False
    return ImageOps.exif_transpose(im), True


# --- fast path: baseline/progressive 8-bit colour JPEG ----------------------------------------

_JPEG_EOI = b"\xff\xd9"


def _decode_jpeg(im: Image.Image, data: bytes, max_pixels: int, label: str) -> Decoded | None:
    """Decode a colour JPEG's pixels with OpenCV straight into a numpy array; None to fall
    back to PIL.

    PIL has already read the header (size, ICC profile, EXIF). OpenCV's libjpeg-turbo gives
    the same pixels as PIL's (both use the accurate integer IDCT and fancy upsampling) in one
    pass into a writeable array, where PIL's ``load`` + ``np.array`` costs a second, copying
    pass (12 MP: 124 -> 57 ms). Only files that end with the end-of-image marker take this
    path: libjpeg pads a truncated file with grey where PIL raises, so those go to PIL, which
    reports them (as do files with trailing data after the image, and anything OpenCV
    cannot read).
    """
    if not data.endswith(_JPEG_EOI):
        return None
    _check_pixels(im.size, max_pixels, label)
    import cv2

    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        rgb = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error:
        return None
    if rgb is None or rgb.shape != (im.height, im.width, 3) or rgb.dtype != np.uint8:
        return None
    orientation = _orientation(im)
    rgb = _apply_orientation(rgb, orientation)
    icc = im.info.get("icc_profile") or None
    if icc is not None and _icc_colour_space(icc) != b"RGB ":
        icc = None
    height, width = rgb.shape[:2]
    meta = ImageMeta(width=width, height=height, source_format=im.format, source_mode=im.mode,
                     icc_profile=icc, exif_rotated=orientation != 1, frames=1)
    return Decoded(rgb=rgb, alpha=None, meta=meta)


def _apply_orientation(rgb: RGB, orientation: int) -> RGB:
    """``uint8 (H, W, 3)`` as displayed for EXIF ``orientation`` 1..8 (as ``exif_transpose``);
    C-contiguous."""
    import cv2

    if orientation == 1:
        return rgb
    if orientation == 2:
        return cv2.flip(rgb, 1)
    if orientation == 3:
        return cv2.rotate(rgb, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(rgb, 0)
    if orientation == 5:
        return cv2.transpose(rgb)
    if orientation == 6:
        return cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(rgb), -1)
    return cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)


def _to_arrays(
    im: Image.Image, icc: bytes | None, label: str
) -> tuple[RGB, Alpha | None, bytes | None]:
    """Convert a loaded image of any mode to ``(rgb, alpha, icc)``.

    The ICC profile is kept only when it describes RGB data (a CMYK or grey profile cannot be
    attached to the RGB output).
    """
    mode = im.mode
    alpha: Alpha | None = None
    if mode in _ALPHA_MODES or (mode in ("P", "L", "RGB", "1") and im.has_transparency_data):
        rgba = np.array(im if mode == "RGBA" else im.convert("RGBA"))
        rgb = np.ascontiguousarray(rgba[..., :3])
        alpha = _alpha_from_u8(rgba[..., 3])
    elif mode in _HIGH_BIT_MODES:
        rgb = _gray_to_rgb(_high_bit_to_u8(np.asarray(im), mode))
    elif mode == "CMYK":
        rgb = np.array(_cmyk_to_rgb(im, icc))
    else:
        rgb = np.array(im if mode == "RGB" else _convert(im, "RGB", label))
    if icc is not None and _icc_colour_space(icc) != b"RGB ":
        icc = None
    return rgb, alpha, icc


def _convert(im: Image.Image, mode: str, label: str) -> Image.Image:
    try:
        return im.convert(mode)
    except ValueError as e:
        raise UnsupportedImage(f"{label}: cannot convert mode {im.mode} to {mode}") from e


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """CMYK to sRGB through the embedded profile when there is a usable one, else naively."""
    if icc is not None and _icc_colour_space(icc) == b"CMYK":
        from PIL import ImageCms

        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # broken profile: like browsers, ignore it
        if converted is not None:
            return converted
    return im.convert("RGB")


def _icc_colour_space(icc: bytes) -> bytes:
    """The data colour space signature of an ICC profile (b"RGB ", b"CMYK", b"GRAY", ...)."""
    return bytes(icc[16:20])


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


def _gray_to_rgb(gray: npt.NDArray[np.uint8]) -> RGB:
    """``uint8 (H, W)`` -> ``uint8 (H, W, 3)`` C-contiguous."""
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def _alpha_from_u8(a8: npt.NDArray[np.uint8]) -> Alpha | None:
    """``uint8 (H, W)`` -> ``float32 (H, W)`` in [0, 1], or None if fully opaque."""
    if a8.min() == 255:
        return None
    alpha = a8.astype(np.float32)
    alpha /= 255.0
    return alpha


# --- numpy input ----------------------------------------------------------------------------


def _decode_array(a: np.ndarray, max_pixels: int) -> Decoded:
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
    _check_pixels((width, height), max_pixels, "array")
    u8 = _array_to_u8(a)
    alpha = None
    if a.ndim == 2:
        rgb, mode = _gray_to_rgb(u8), "L"
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
        return _alpha_from_u8(a)
    if a.dtype == np.uint16:
        alpha = a.astype(np.float32) / np.float32(65535.0)
    else:
        alpha = np.clip(_checked_float(a), 0.0, 1.0).astype(np.float32, copy=True)
    return None if float(alpha.min()) >= 1.0 else alpha
