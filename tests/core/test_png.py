"""The parallel PNG writer: any reader gets exactly the pixels back."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from alphacut.core.png import encode_png


def idat(png: bytes) -> bytes:
    at = png.index(b"IDAT")
    length = int.from_bytes(png[at - 4:at], "big")
    return png[at + 4:at + 4 + length]


@pytest.mark.parametrize("shape", [(1, 1), (5, 3, 3), (601, 1203, 4), (1999, 700), (900, 2, 4)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_pixels_round_trip_exactly(shape: tuple[int, ...], threads: int) -> None:
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    pixels[::4] = 9  # some runs, like real images
    png = encode_png(pixels, threads=threads)
    zlib.decompress(idat(png))  # one valid zlib stream (checks the combined Adler-32)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), pixels)


def test_icc_profile_is_embedded() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    png = encode_png(np.zeros((4, 4, 3), np.uint8), icc_profile=profile)
    with Image.open(io.BytesIO(png)) as im:
        assert im.info.get("icc_profile") == profile


def test_level_zero_stores_and_higher_levels_shrink() -> None:
    y, x = np.mgrid[0:400, 0:600]
    pixels = np.dstack([(x + y) % 256, x % 256, y % 256]).astype(np.uint8)
    sizes = [len(encode_png(pixels, compress_level=level)) for level in (0, 1, 9)]
    assert sizes[0] > sizes[1] >= sizes[2]


def test_without_isal_zlib_writes_the_same_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    from alphacut.core import png

    monkeypatch.setattr(png, "_isal", lambda: None)
    pixels = np.random.default_rng(1).integers(0, 256, (700, 900, 4), dtype=np.uint8)
    data = png.encode_png(pixels, threads=2)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)
