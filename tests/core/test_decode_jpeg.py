"""The OpenCV fast path for colour JPEGs gives exactly what PIL gives, and falls back to PIL."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from alphacut.core import decode as decode_module
from alphacut.core.decode import decode

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"


def _jpeg(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _pil_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.array(ImageOps.exif_transpose(im).convert("RGB"))


def _photo(width: int = 61, height: int = 37) -> Image.Image:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 255, (height // 4 + 1, width // 4 + 1, 3), dtype=np.uint8)
    return Image.fromarray(base).resize((width, height), Image.Resampling.BICUBIC)


@pytest.mark.parametrize("subsampling", [0, 1, 2])
@pytest.mark.parametrize("progressive", [False, True])
def test_same_pixels_as_pil(subsampling: int, progressive: bool) -> None:
    data = _jpeg(_photo(), quality=90, subsampling=subsampling, progressive=progressive)
    d = decode(data)
    assert d.rgb.dtype == np.uint8 and d.rgb.flags.c_contiguous and d.rgb.flags.writeable
    np.testing.assert_array_equal(d.rgb, _pil_rgb(data))
    assert d.alpha is None and d.meta.source_format == "JPEG" and d.meta.source_mode == "RGB"


def test_real_photo_same_pixels_as_pil() -> None:
    data = SAMPLE.read_bytes()
    np.testing.assert_array_equal(decode(data).rgb, _pil_rgb(data))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_as_pil(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _jpeg(_photo(), quality=95, exif=exif)
    d = decode(data)
    expected = _pil_rgb(data)
    np.testing.assert_array_equal(d.rgb, expected)
    assert d.rgb.flags.c_contiguous
    assert d.meta.exif_rotated == (orientation != 1)
    assert (d.meta.height, d.meta.width) == expected.shape[:2]


def test_icc_profile_kept() -> None:
    profile = bytes(16) + b"RGB " + bytes(108)
    data = _jpeg(_photo(), icc_profile=profile)
    assert decode(data).meta.icc_profile == profile


def test_trailing_data_falls_back_to_pil(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _jpeg(_photo()) + b"trailer"
    calls = []
    original = decode_module._decode_pil
    monkeypatch.setattr(decode_module, "_decode_pil",
                        lambda *a: calls.append(1) or original(*a))  # type: ignore[func-returns-value]
    np.testing.assert_array_equal(decode(data).rgb, _pil_rgb(data))
    assert calls


def test_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("PIL path used for a plain colour JPEG")

    monkeypatch.setattr(decode_module, "_decode_pil", fail)
    decode(_jpeg(_photo()))


def test_cut_short_but_ending_in_eoi_decodes_as_pil_does() -> None:
    """libjpeg pads a scan that stops early at an end-of-image marker; PIL does the same."""
    data = _jpeg(_photo(200, 200), quality=95)
    cut = data[: len(data) // 2] + b"\xff\xd9"
    np.testing.assert_array_equal(decode(cut).rgb, _pil_rgb(cut))
