"""Format detection from magic bytes, PNG chunk CRCs, and on-demand HEIF support.

Format names are those of ``alphacut.formats``; nothing here decodes pixels.
"""

from __future__ import annotations

import zlib

from alphacut.errors import InvalidImage
from alphacut.formats import BY_NAME, ImageFormat

# Magic bytes of the formats in alphacut.formats; ISO-BMFF (HEIF, AVIF) is told by its brand.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
)
# ISO-BMFF brands that pillow_heif reads; AVIF brands are read by Pillow itself when it can.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

_heif_registered = False


def sniff(data: bytes) -> ImageFormat | None:
    """The format of ``data`` from its magic bytes, if it is one alphacut reads."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return BY_NAME[name]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return BY_NAME["webp"]
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _AVIF_BRANDS:
            return BY_NAME["avif"]
        if brand in _HEIF_BRANDS:
            return BY_NAME["heif"]
    return None


def needs_heif_plugin(data: bytes) -> bool:
    """True for an ISO-BMFF ``ftyp`` box with a HEIF brand (or AVIF when Pillow lacks it)."""
    if data[4:8] != b"ftyp":
        return False
    brand = data[8:12]
    return brand in _HEIF_BRANDS or (brand in _AVIF_BRANDS and not _pillow_reads_avif())


def register_heif() -> bool:
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


def check_png_crcs(data: bytes, label: str) -> None:
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
                name = kind.decode("latin-1")
                raise InvalidImage(f"{label}: corrupt PNG file (bad CRC in {name} chunk)")
        pos = end


def _pillow_reads_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))
