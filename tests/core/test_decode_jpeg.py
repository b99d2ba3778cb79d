"""The OpenCV fast path for colour JPEGs gives exactly what PIL gives, and falls back to PIL."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from alphacut.core.decode import convert, decode, jpeg
from alphacut.errors import InvalidImage

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
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _jpeg(_photo(), icc_profile=profile)
    assert decode(data).meta.icc_profile == profile


def test_trailing_data_after_the_image_decodes_as_pil_does() -> None:
    data = _jpeg(_photo()) + b"trailer"
    np.testing.assert_array_equal(decode(data).rgb, _pil_rgb(data))


def _no_pil(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("PIL path used for a plain colour JPEG")

    monkeypatch.setattr(jpeg, "decode_pil", fail)


def test_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pil(monkeypatch)
    decode(_jpeg(_photo()))
    decode(_jpeg(_photo()) + b"trailer")


def test_grey_jpeg_same_pixels_as_pil() -> None:
    data = _jpeg(_photo().convert("L"), quality=90)
    d = decode(data)
    assert d.meta.source_mode == "L"
    np.testing.assert_array_equal(d.rgb, _pil_rgb(data))


def test_pil_fallback_when_opencv_cannot_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A colour JPEG OpenCV refuses still decodes, through PIL."""
    data = _jpeg(_photo())
    calls = []
    original = convert.decode_pil
    monkeypatch.setattr(jpeg, "decode_pil",
                        lambda *a: calls.append(1) or original(*a))  # type: ignore[func-returns-value]
    monkeypatch.setattr(jpeg, "_decode_colour", lambda *a: None)
    np.testing.assert_array_equal(decode(data).rgb, _pil_rgb(data))
    assert calls


def test_cut_short_but_ending_in_eoi_is_refused() -> None:
    """libjpeg pads a scan that stops early at an end-of-image marker with grey (and PIL does
    the same, silently); alphacut reads libjpeg's warning and refuses the file."""
    data = _jpeg(_photo(200, 200), quality=95)
    cut = data[: len(data) // 2] + b"\xff\xd9"
    with pytest.raises(InvalidImage, match="premature end"):
        decode(cut)
