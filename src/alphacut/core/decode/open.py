"""Open encoded bytes with PIL (header only), check the pixel limit, map library errors.

``library_errors`` is the one place where what PIL, OpenCV, pillow-heif or numpy raise on
hostile data becomes a typed error; nothing else escapes a decode.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, UnidentifiedImageError

from alphacut.core.decode.sniff import needs_heif_plugin, register_heif, sniff
from alphacut.errors import AlphacutError, ImageTooLarge, InvalidImage, UnsupportedImage


def check_pixels(size: tuple[int, int], max_pixels: int, label: str) -> None:
    """Raise ImageTooLarge when ``width * height`` exceeds ``max_pixels``."""
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{label}: image is {width}x{height} = {width * height} pixels, "
            f"over the limit of {max_pixels} pixels"
        )


@contextmanager
def library_errors(label: str) -> Iterator[None]:
    """Turn any exception raised inside into a typed error naming ``label``.

    Typed errors pass through; PIL's bomb error and MemoryError become ImageTooLarge; anything
    else (OSError, SyntaxError, TypeError, ValueError, struct.error, cv2.error, RuntimeError
    from pillow-heif...) becomes InvalidImage. Only BaseExceptions such as KeyboardInterrupt
    are left alone.
    """
    try:
        yield
    except (AlphacutError, UnidentifiedImageError):
        raise
    except Image.DecompressionBombError as e:
        raise ImageTooLarge(f"{label}: image too large ({e})") from e
    except MemoryError as e:
        raise ImageTooLarge(f"{label}: not enough memory to decode the image") from e
    except Exception as e:
        if "security limit" in str(e).lower():  # libheif refusing an oversized image
            raise ImageTooLarge(f"{label}: image too large ({_describe(e)})") from e
        raise InvalidImage(f"{label}: corrupt or truncated image ({_describe(e)})") from e


def open_image(data: bytes, label: str) -> Image.Image:
    """Open ``data`` with PIL (header only, no pixel data); HEIF support registered on demand."""
    if not data:
        raise InvalidImage(f"empty input: {label} has zero bytes")
    if needs_heif_plugin(data):
        register_heif()
    try:
        return _pil_open(data, label)
    except UnidentifiedImageError as e:
        if register_heif():
            try:
                return _pil_open(data, label)
            except UnidentifiedImageError:
                pass
        raise _unidentified(data, label) from e


def _pil_open(data: bytes, label: str) -> Image.Image:
    with library_errors(label):
        im = Image.open(io.BytesIO(data))
    if im.format == "EPS":  # PIL renders EPS by running Ghostscript: never on untrusted input
        im.close()
        raise UnsupportedImage(f"{label}: EPS/PostScript input is not supported")
    return im


def _unidentified(data: bytes, label: str) -> InvalidImage:
    """The error for bytes PIL could not identify: corrupt when the magic says a known format."""
    kind = sniff(data)
    if kind is None:
        return UnsupportedImage(f"{label}: not an image, or a format alphacut cannot read")
    if kind.name == "heif" and not _has_heif_plugin():
        return UnsupportedImage(
            f"{label}: HEIC/HEIF input needs pillow-heif (pip install 'alphacut[heif]')"
        )
    return InvalidImage(f"{label}: corrupt {kind.name.upper()} file (header unreadable)")


def _has_heif_plugin() -> bool:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        return False
    return True


def _describe(e: Exception) -> str:
    """The library's message, prefixed by the exception type unless that is a plain I/O one."""
    text = str(e).strip()
    if type(e) not in (OSError, ValueError, SyntaxError, EOFError) or not text:
        text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."
