"""Findings of a hostile-user review: each input here once crashed, lied or made noise."""

from __future__ import annotations

import contextlib
import io
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from alphacut.core.decode import decode, jpeg
from alphacut.errors import ImageTooLarge, InvalidImage, UnsupportedImage

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _photo(width: int, height: int) -> Image.Image:
    with Image.open(SAMPLE) as im:
        return im.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)


def _tiff_entries(data: bytes) -> list[tuple[int, int]]:
    """``(offset of the entry, tag)`` for every IFD entry of a little-endian TIFF."""
    entries = []
    ifd = struct.unpack_from("<I", data, 4)[0]
    while ifd:
        count = struct.unpack_from("<H", data, ifd)[0]
        for i in range(count):
            pos = ifd + 2 + 12 * i
            entries.append((pos, struct.unpack_from("<H", data, pos)[0]))
        ifd = struct.unpack_from("<I", data, ifd + 2 + 12 * count)[0]
    return entries


def _two_page_tiff() -> bytes:
    page = _photo(32, 24)
    return _save(page, "TIFF", save_all=True, append_images=[page])


# --- every library exception becomes a typed error -------------------------------------------


def test_tiff_page_without_dimensions_is_invalid_not_type_error(tmp_path: Path) -> None:
    data = bytearray(_two_page_tiff())
    widths = [pos for pos, tag in _tiff_entries(bytes(data)) if tag == 256]
    assert len(widths) == 2
    data[widths[1] : widths[1] + 2] = struct.pack("<H", 0x9999)  # page 2 loses ImageWidth
    path = tmp_path / "fuzzed.tif"
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidImage, match=r"fuzzed\.tif.*Missing dimensions"):
        decode(path)


# --- truncated JPEG with an end-of-image marker ------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_with_eoi_appended_is_invalid(mode: str, progressive: bool) -> None:
    data = _save(_photo(320, 240).convert(mode), "JPEG", quality=92, progressive=progressive)
    cut = data[: len(data) * 2 // 3] + b"\xff\xd9"
    with pytest.raises(InvalidImage, match="corrupt or truncated JPEG") as info:
        decode(cut)
    assert not isinstance(info.value, UnsupportedImage)


def test_whole_jpeg_with_eoi_still_decodes() -> None:
    data = _save(_photo(320, 240), "JPEG", quality=92)
    assert decode(data).rgb.shape == (240, 320, 3)


# --- small file, huge claimed size -------------------------------------------------------------


def _claims(data: bytes, width: int, height: int) -> bytes:
    """``data`` with its baseline SOF0 header edited to claim ``width x height``."""
    b = bytearray(data)
    sof = b.index(b"\xff\xc0")
    b[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(b)


def test_tiny_jpeg_claiming_81_megapixels_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    photo = _save(_photo(600, 400), "JPEG", quality=90)
    bomb = _claims(photo, 9000, 9000)[:69_000] + b"\xff\xd9"
    full_decodes = []
    original = jpeg._decode_colour
    monkeypatch.setattr(jpeg, "_decode_colour",
                        lambda *a: full_decodes.append(1) or original(*a))  # type: ignore[func-returns-value]
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InvalidImage, match="corrupt or truncated JPEG"):
            decode(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not full_decodes  # refused by the 1/8-scale test decode
    assert time.perf_counter() - start < 2.0
    assert peak < 50_000_000  # numpy allocations are traced: no 243 MB output array


@pytest.mark.slow
def test_legit_flat_colour_9000x9000_jpeg_still_decodes() -> None:
    data = _save(Image.new("RGB", (9000, 9000), (120, 30, 200)), "JPEG", quality=90,
                 optimize=True)
    assert len(data) * 32 < 9000 * 9000  # small enough to be test-decoded first
    d = decode(data)
    assert d.rgb.shape == (9000, 9000, 3)
    assert np.abs(d.rgb[4500, 4500].astype(int) - (120, 30, 200)).max() <= 4
    with pytest.raises(ImageTooLarge):
        decode(data, max_pixels=80_000_000)


# --- ICC profiles --------------------------------------------------------------------------------


def test_junk_icc_profile_that_looks_like_rgb_is_dropped() -> None:
    junk = bytes(16) + b"RGB " + bytes(108)
    for fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        d = decode(_save(_photo(32, 24), fmt, icc_profile=junk))
        assert d.meta.icc_profile is None, fmt
        assert d.rgb.shape == (24, 32, 3)


def test_real_rgb_icc_profile_is_kept() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for fmt in ("JPEG", "PNG"):
        assert decode(_save(_photo(32, 24), fmt, icc_profile=srgb)).meta.icc_profile == srgb


# --- nothing printed ------------------------------------------------------------------------------


def _assert_silent(capfd: pytest.CaptureFixture[str], data: bytes, **kw: object) -> None:
    capfd.readouterr()
    with warnings.catch_warnings(), contextlib.suppress(InvalidImage):
        warnings.simplefilter("error")
        decode(data, **kw)  # type: ignore[arg-type]
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def test_corrupt_jpeg_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    data = _save(_photo(320, 240), "JPEG", quality=92)
    _assert_silent(capfd, data[: len(data) // 2] + b"\xff\xd9")
    _assert_silent(capfd, data[: len(data) // 2])
    junk = bytearray(data)
    junk[len(junk) // 2 : len(junk) // 2 + 64] = bytes(range(64))
    _assert_silent(capfd, bytes(junk))


def test_decompression_bomb_warning_is_not_shown(capfd: pytest.CaptureFixture[str]) -> None:
    """95 MP is over PIL's warning threshold (89 MP) and under alphacut's limit (100 MP)."""
    big = Image.new("1", (10000, 9500))
    _assert_silent(capfd, _save(big, "PNG"))


def test_tiff_tag_warnings_are_not_shown(capfd: pytest.CaptureFixture[str]) -> None:
    data = bytearray(_save(_photo(32, 24), "TIFF", dpi=(300, 300)))
    for pos, tag in _tiff_entries(bytes(data)):
        if tag == 282:  # XResolution: point its value far past the end of the file
            data[pos + 8 : pos + 12] = struct.pack("<I", 0x7FFF0000)
    _assert_silent(capfd, bytes(data))


def test_other_threads_stderr_survives_a_quiet_decode() -> None:
    """A server's log line written while a decode captures fd 2 is passed on, codec noise not."""
    import subprocess
    import sys

    probe = (
        "import os\n"
        "from alphacut.core.decode.quiet import quiet\n"
        "with quiet():\n"
        "    os.write(2, b'Corrupt JPEG data: 12 extraneous bytes before marker 0xd9\\n')\n"
        "    os.write(2, b'INFO: access log line\\n')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    assert "access log line" in out.stderr
    assert "Corrupt JPEG" not in out.stderr
