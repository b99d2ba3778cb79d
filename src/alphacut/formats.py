"""The one table of image formats and size limits that decode, encode, batch, server and page read.

Light on purpose (no numpy, no PIL): the CLI's ``--help`` and the server's option document
import it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_PIXELS = 100_000_000  # 100 MP: above any camera, below a decompression bomb


@dataclass(frozen=True)
class ImageFormat:
    """One format: its name, the extensions that mean it (first is written), MIME type,
    whether it can carry alpha, whether alphacut writes it, the largest side it stores, and
    whether alphacut reads it as an input."""

    name: str
    extensions: tuple[str, ...]
    mime: str
    alpha: bool
    writable: bool
    max_side: int | None = None
    readable: bool = True


TABLE: tuple[ImageFormat, ...] = (
    ImageFormat("png", (".png",), "image/png", alpha=True, writable=True),
    ImageFormat("webp", (".webp",), "image/webp", alpha=True, writable=True, max_side=16383),
    ImageFormat("tiff", (".tiff", ".tif"), "image/tiff", alpha=True, writable=True),
    ImageFormat("jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), "image/jpeg", alpha=False,
                writable=True, max_side=65535),
    ImageFormat("bmp", (".bmp",), "image/bmp", alpha=False, writable=False),
    ImageFormat("gif", (".gif",), "image/gif", alpha=True, writable=False),
    ImageFormat("heif", (".heic", ".heif"), "image/heic", alpha=True, writable=False),
    ImageFormat("avif", (".avif",), "image/avif", alpha=True, writable=False),
    # layered Photoshop file, rendered from the Result (core/psd.py); never read as an input
    ImageFormat("psd", (".psd",), "image/vnd.adobe.photoshop", alpha=True, writable=True,
                max_side=30000, readable=False),
)

BY_NAME: dict[str, ImageFormat] = {f.name: f for f in TABLE}
ALIASES = {"jpg": "jpeg", "tif": "tiff", "heic": "heif"}
OUTPUT_FORMATS: tuple[str, ...] = tuple(f.name for f in TABLE if f.writable)
INPUT_SUFFIXES: frozenset[str] = frozenset(e for f in TABLE if f.readable for e in f.extensions)
OUTPUT_SUFFIXES: dict[str, str] = {e: f.name for f in TABLE if f.writable for e in f.extensions}


def extension(name: str) -> str:
    """The extension alphacut writes for format ``name`` (``.png``, ``.jpg``...)."""
    return BY_NAME[ALIASES.get(name, name)].extensions[0]


def mime_type(name: str) -> str:
    return BY_NAME[ALIASES.get(name, name)].mime


def output_format_for_suffix(suffix: str) -> str | None:
    """``.jpg`` -> ``jpeg``; None when alphacut does not write that suffix."""
    return OUTPUT_SUFFIXES.get(suffix.lower())
