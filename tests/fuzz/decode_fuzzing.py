"""Seeds and mutations for fuzzing the decoder, shared by the hypothesis test and the campaign.

Seeds are small files (a few KB) made here from the real photos in tests/fixtures/pets and
examples/sample.jpg, one per format and mode the decoder reads. A mutation is a list of plain
tuples (``Op``) so hypothesis can draw and shrink them and a seeded ``random.Random`` can make
millions of them.
"""

from __future__ import annotations

import io
import random
import re
import struct
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, features

from alphacut.core.decode import decode
from alphacut.errors import AlphacutError

ROOT = Path(__file__).resolve().parents[2]
PETS = sorted((ROOT / "tests" / "fixtures" / "pets").glob("*.jpg"))
PHOTOS = [*PETS, ROOT / "examples" / "sample.jpg"]
MAX_PIXELS = 4_000_000  # header edits may claim anything: keep each example small and quick
INTERESTING_SIZES = (0, 1, 2, 7, 8, 9, 255, 256, 4095, 16383, 16384, 65535, 65536, 2**31 - 1,
                     2**32 - 1)

Op = tuple[str, int, int, int]  # (kind, a, b, c): integers read modulo what each op needs


def _photo(index: int, size: tuple[int, int] = (48, 36)) -> Image.Image:
    with Image.open(PHOTOS[index % len(PHOTOS)]) as im:
        return im.convert("RGB").resize(size, Image.Resampling.BILINEAR)


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _with_alpha(im: Image.Image) -> Image.Image:
    """RGBA: the photo with a soft elliptical alpha (transparent corners)."""
    h, w = im.height, im.width
    yy, xx = np.mgrid[0:h, 0:w]
    r = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    alpha = np.clip((1.2 - r) * 255, 0, 255).astype(np.uint8)
    return Image.fromarray(np.dstack([np.asarray(im), alpha]), "RGBA")


def _png16(im: Image.Image, grey: bool) -> bytes:
    import cv2

    a = np.asarray(im).astype(np.uint16) * 257
    a = a[..., 0] if grey else a[..., ::-1]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(a))
    assert ok
    return buf.tobytes()


def _tiff16(im: Image.Image) -> bytes:
    import cv2

    bgr16 = np.ascontiguousarray(np.asarray(im)[..., ::-1]).astype(np.uint16) * 257
    ok, buf = cv2.imencode(".tiff", bgr16)
    assert ok
    return buf.tobytes()


def _frames(count: int = 3) -> list[Image.Image]:
    return [_photo(i, (32, 24)) for i in range(count)]


def _heic(im: Image.Image) -> bytes | None:
    try:
        import pillow_heif

        buf = io.BytesIO()
        pillow_heif.from_pillow(im).save(buf, quality=70)
    except Exception:  # no plugin or no encoder here
        return None
    return buf.getvalue()


@lru_cache(maxsize=1)
def seeds() -> dict[str, bytes]:
    """Name -> encoded seed file, every format and mode the decoder reads."""
    p = _photo(0)
    exif = Image.Exif()
    exif[0x0112] = 6
    srgb = _srgb_profile()
    out: dict[str, bytes] = {
        "jpeg": _save(p, "JPEG", quality=85),
        "jpeg_progressive": _save(_photo(1), "JPEG", quality=80, progressive=True),
        "jpeg_exif_icc_444": _save(_photo(2), "JPEG", quality=90, exif=exif, icc_profile=srgb,
                                   subsampling=0),
        "jpeg_grey": _save(_photo(3).convert("L"), "JPEG", quality=85),
        "jpeg_cmyk": _save(_photo(4).convert("CMYK"), "JPEG", quality=85),
        "png_rgb": _save(p, "PNG"),
        "png_rgba": _save(_with_alpha(_photo(1)), "PNG", icc_profile=srgb),
        "png_la": _save(_with_alpha(_photo(2)).convert("LA"), "PNG"),
        "png_palette_trns": _save(_photo(3).quantize(16), "PNG", transparency=0),
        "png_16bit_rgb": _png16(_photo(4), grey=False),
        "png_16bit_grey": _png16(p, grey=True),
        "png_animated": _save(_frames()[0], "PNG", save_all=True, append_images=_frames()[1:]),
        "webp_lossy": _save(p, "WEBP", quality=70),
        "webp_lossless_rgba": _save(_with_alpha(_photo(1)), "WEBP", lossless=True),
        "webp_animated": _save(_frames()[0], "WEBP", save_all=True, append_images=_frames()[1:],
                               quality=60),
        "tiff_rgb": _save(p, "TIFF", dpi=(300, 300)),
        "tiff_lzw_rgba": _save(_with_alpha(_photo(2)), "TIFF", compression="tiff_lzw"),
        "tiff_16bit": _tiff16(_photo(3)),
        "tiff_cmyk": _save(_photo(4).convert("CMYK"), "TIFF", compression="tiff_deflate"),
        "tiff_pages": _save(_frames()[0], "TIFF", save_all=True, append_images=_frames()[1:]),
        "bmp_rgb": _save(p, "BMP"),
        "bmp_palette": _save(_photo(1).quantize(16), "BMP"),
        "gif": _save(_photo(2).quantize(32), "GIF"),
        "gif_animated": _save(_frames()[0], "GIF", save_all=True, append_images=_frames()[1:],
                              duration=40, loop=0),
    }
    if features.check("avif"):
        out["avif"] = _save(_photo(3, (32, 24)), "AVIF", quality=50)
    heic = _heic(_photo(4, (32, 24)))
    if heic is not None:
        out["heic"] = heic
    return out


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# --- mutations ------------------------------------------------------------------------------

OP_KINDS = ("flip", "set", "truncate", "insert", "delete", "splice", "drop_segment",
            "dup_segment", "swap_segments", "size", "append")


def segments(data: bytes) -> list[int]:
    """Start offsets of the file's structural units (PNG/RIFF chunks, JPEG markers, ISO-BMFF
    boxes, else 64-byte blocks), always including 0."""
    starts = {0}
    if data.startswith(b"\x89PNG"):
        pos = 8
        while pos + 8 <= len(data):
            starts.add(pos)
            pos += 12 + int.from_bytes(data[pos : pos + 4], "big")
    elif data.startswith(b"\xff\xd8"):
        starts.update(m.start() for m in re.finditer(rb"\xff[\xc0-\xfe]", data))
    elif data.startswith(b"RIFF"):
        pos = 12
        while pos + 8 <= len(data):
            starts.add(pos)
            pos += 8 + ((int.from_bytes(data[pos + 4 : pos + 8], "little") + 1) & ~1)
    elif data[4:8] == b"ftyp":
        boxes = rb"ftyp|meta|mdat|iloc|iprp|ispe|hvcC|av1C|pixi"
        starts.update(m.start() - 4 for m in re.finditer(boxes, data))
    else:
        starts.update(range(0, len(data), 64))
    return sorted(s for s in starts if 0 <= s < len(data))


def _size_fields(data: bytes) -> list[tuple[int, str]]:
    """(offset, struct format) of the width/height fields this file's header stores."""
    fields: list[tuple[int, str]] = []
    if data.startswith(b"\x89PNG"):
        fields = [(16, ">I"), (20, ">I")]
    elif data.startswith(b"\xff\xd8"):
        for m in re.finditer(rb"\xff[\xc0-\xc3\xc5-\xc7\xc9-\xcb\xcd-\xcf]", data):
            fields += [(m.start() + 5, ">H"), (m.start() + 7, ">H")]
    elif data.startswith((b"GIF87a", b"GIF89a")):
        fields = [(6, "<H"), (8, "<H")]
        fields += [(m.start() + 5, "<H") for m in re.finditer(rb"\x2c", data[13:200])]
    elif data.startswith(b"BM"):
        fields = [(18, "<i"), (22, "<i")]
    elif data.startswith(b"RIFF"):
        fields = [(24, "<H"), (27, "<H"), (26, "<H"), (28, "<H"), (21, "<I")]
    elif data.startswith((b"II*\x00", b"MM\x00*")):
        endian = "<" if data[:2] == b"II" else ">"
        tags = b"|".join(re.escape(struct.pack(endian + "H", t)) for t in (256, 257))
        fields = [(m.start() + 8, endian + "I") for m in re.finditer(tags, data)]
    elif data[4:8] == b"ftyp":
        for m in re.finditer(rb"ispe", data):
            fields += [(m.start() + 8, ">I"), (m.start() + 12, ">I")]
    return [(o, f) for o, f in fields if o + struct.calcsize(f) <= len(data)]


def mutate(data: bytes, ops: list[Op], pool: list[bytes]) -> bytes:
    """Apply ``ops`` in order to ``data``; ``pool`` gives donor files for splicing."""
    b = bytearray(data)
    for kind, x, y, z in ops:
        if not b:
            break
        n = len(b)
        if kind == "flip":
            b[x % n] ^= 1 << (y % 8) if z % 2 else (y % 255) + 1
        elif kind == "set":
            b[x % n] = (0x00, 0xFF, 0x7F, 0x80, y % 256)[z % 5]
        elif kind == "truncate":
            b = b[: x % n]
        elif kind == "insert":
            b[x % (n + 1) : x % (n + 1)] = random.Random(y).randbytes(1 + z % 64)
        elif kind == "delete":
            del b[x % n : x % n + 1 + y % 256]
        elif kind == "splice":
            donor = pool[y % len(pool)]
            start = z % len(donor)
            length = 1 + (x >> 8) % 512
            at = x % n
            b[at : at + length] = donor[start : start + length]
        elif kind in ("drop_segment", "dup_segment", "swap_segments"):
            b = _segment_op(bytes(b), kind, x, y)
        elif kind == "size":
            fields = _size_fields(bytes(b))
            if fields:
                offset, fmt = fields[x % len(fields)]
                value = INTERESTING_SIZES[y % len(INTERESTING_SIZES)] if z % 2 else y
                limit = 2 ** (8 * struct.calcsize(fmt) - (1 if fmt[-1].islower() else 0))
                value %= limit
                if fmt[-1].islower() and z % 3 == 0:
                    value = -value
                b[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
        elif kind == "append":
            b += (b"\xff\xd9", b"\x00" * 16, random.Random(y).randbytes(1 + z % 256))[x % 3]
    return bytes(b)


def _segment_op(data: bytes, kind: str, x: int, y: int) -> bytearray:
    starts = segments(data)
    bounds = list(zip(starts, [*starts[1:], len(data)], strict=True))
    i, j = x % len(bounds), y % len(bounds)
    parts = [bytearray(data[s:e]) for s, e in bounds]
    if kind == "drop_segment" and len(parts) > 1:
        del parts[i]
    elif kind == "dup_segment":
        parts.insert(j, parts[i][:])
    elif kind == "swap_segments":
        parts[i], parts[j] = parts[j], parts[i]
    return bytearray(b"".join(parts))


def random_ops(rng: random.Random, max_ops: int = 4) -> list[Op]:
    """A random mutation: 1..max_ops ops with wide integer arguments."""
    return [(rng.choice(OP_KINDS), rng.getrandbits(24), rng.getrandbits(32), rng.getrandbits(16))
            for _ in range(rng.randint(1, max_ops))]


# --- the property ---------------------------------------------------------------------------


def check_decode(data: bytes, max_pixels: int = MAX_PIXELS) -> str:
    """Decode ``data``; return "ok" or the typed error's class name.

    Raises AssertionError when a returned ``Decoded`` breaks the contract; anything other than
    an ``AlphacutError`` propagates (that is a finding).
    """
    try:
        d = decode(data, max_pixels=max_pixels)
    except AlphacutError as e:
        assert str(e), "typed error without a message"
        return type(e).__name__
    rgb, alpha, meta = d.rgb, d.alpha, d.meta
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.shape[0] > 0 and rgb.shape[1] > 0
    assert rgb.flags.c_contiguous and rgb.flags.writeable
    assert (meta.height, meta.width) == rgb.shape[:2]
    assert meta.width * meta.height <= max_pixels
    if alpha is not None:
        assert alpha.dtype == np.float32 and alpha.shape == rgb.shape[:2]
        assert np.isfinite(alpha).all() and alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert meta.icc_profile is None or isinstance(meta.icc_profile, bytes)
    assert isinstance(meta.frames, int) and meta.frames >= 1
    return "ok"


def timed(fn: Callable[[], str]) -> tuple[str, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start
