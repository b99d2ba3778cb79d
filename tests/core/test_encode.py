"""Encode: each format round-trips what a user sees; atomic writes never leave debris."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from alphacut.core.encode import EXTENSIONS, FORMATS, encode, format_for_path, write_atomic
from alphacut.errors import InvalidImage, InvalidOption, OutputError


def _rgba(height: int = 24, width: int = 32) -> np.ndarray:
    """A cut-out-like RGBA: textured colour, opaque centre, soft edge, transparent border."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    dist = np.hypot((yy - height / 2) / (height / 2), (xx - width / 2) / (width / 2))
    alpha = np.clip((1.0 - dist) * 4 * 255, 0, 255).astype(np.uint8)
    return np.dstack([rgb, alpha])


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.mark.parametrize("fmt", ["png", "tiff"])
@pytest.mark.parametrize("channels", [0, 3, 4])
def test_lossless_formats_round_trip_exactly(fmt: str, channels: int) -> None:
    rgba = _rgba()
    pixels = rgba[..., 3] if channels == 0 else np.ascontiguousarray(rgba[..., :channels])
    im = _open(encode(pixels, fmt))
    assert im.mode == {0: "L", 3: "RGB", 4: "RGBA"}[channels]
    assert np.array_equal(np.asarray(im), pixels)


def test_webp_lossless_keeps_every_visible_pixel() -> None:
    rgba = _rgba()
    out = np.asarray(_open(encode(rgba, "webp", lossless=True)))
    visible = rgba[..., 3] > 0
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.array_equal(out[visible], rgba[visible])
    rgb = np.ascontiguousarray(rgba[..., :3])
    assert np.array_equal(np.asarray(_open(encode(rgb, "webp", lossless=True))), rgb)


def test_webp_lossy_keeps_alpha_exact_and_colour_close() -> None:
    rgba = _rgba()
    rgba[..., :3] = (30, 120, 200)  # flat colour: lossy error stays small
    data = encode(rgba, "webp", quality=92)
    out = np.asarray(_open(data))
    assert out.shape == rgba.shape
    assert np.array_equal(out[..., 3], rgba[..., 3])  # edges of the cut-out are untouched
    opaque = rgba[..., 3] == 255
    assert np.abs(out[opaque][:, :3].astype(int) - (30, 120, 200)).max() <= 6


def test_jpeg_round_trip_and_quality() -> None:
    rgb = np.full((32, 32, 3), (200, 100, 50), np.uint8)
    out = np.asarray(_open(encode(rgb, "jpeg")))
    assert np.abs(out.astype(int) - rgb).max() <= 4
    noisy = np.ascontiguousarray(_rgba(64, 64)[..., :3])
    assert len(encode(noisy, "jpeg", quality=30)) < len(encode(noisy, "jpeg", quality=95))
    mask = _rgba()[..., 3]
    assert _open(encode(mask, "jpg")).mode == "L"


def test_jpeg_rejects_real_alpha_but_accepts_opaque_rgba() -> None:
    rgba = _rgba()
    with pytest.raises(InvalidOption, match="alpha"):
        encode(rgba, "jpeg")
    rgba[..., 3] = 255
    assert _open(encode(rgba, "jpeg")).mode == "RGB"


def test_icc_profile_embedded_only_where_it_fits() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgba = _rgba()
    for fmt in ("png", "webp", "tiff"):
        assert _open(encode(rgba, fmt, icc_profile=srgb)).info.get("icc_profile") == srgb, fmt
    # a mask is data, not colour: an RGB profile is not attached to it
    assert not _open(encode(rgba[..., 3], "png", icc_profile=srgb)).info.get("icc_profile")
    assert not _open(encode(rgba, "png")).info.get("icc_profile")


def test_png_compress_level_trades_size() -> None:
    pixels = np.tile(np.arange(256, dtype=np.uint8), (64, 1))
    assert len(encode(pixels, "png", png_compress_level=0)) > len(
        encode(pixels, "png", png_compress_level=6)
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fmt": "bmp"}, "png, webp, tiff, jpeg"),
        ({"quality": 0}, "quality"),
        ({"quality": 101}, "quality"),
        ({"png_compress_level": 10}, "png_compress_level"),
    ],
)
def test_bad_options(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"fmt": "png", **kwargs}
    with pytest.raises(InvalidOption, match=match):
        encode(_rgba(), **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 2), np.uint8), np.zeros((0, 4), np.uint8)],
)
def test_bad_pixels(pixels: np.ndarray) -> None:
    with pytest.raises(InvalidImage):
        encode(pixels, "png")


def test_webp_size_limit_is_a_clear_error() -> None:
    with pytest.raises(InvalidOption, match="16383"):
        encode(np.zeros((1, 16384), np.uint8), "webp")


def test_format_names_and_paths() -> None:
    assert format_for_path("a/b/cut.PNG") == "png"
    assert format_for_path(Path("x.webp")) == "webp"
    assert format_for_path("x.tif") == format_for_path("x.tiff") == "tiff"
    assert format_for_path("x.jpg") == format_for_path("x.JPEG") == "jpeg"
    for bad in ("x.bmp", "noext"):
        with pytest.raises(InvalidOption, match=r"\.png"):
            format_for_path(bad)
    for fmt in FORMATS:
        assert format_for_path("out" + EXTENSIONS[fmt]) == fmt


# --- write_atomic ---------------------------------------------------------------------------


def _debris(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_write_atomic_creates_parents_and_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "cut.png"
    write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    write_atomic(str(target), b"second version")
    assert target.read_bytes() == b"second version"
    assert _debris(target.parent) == []


def test_write_atomic_keeps_the_umask_mode(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    target = tmp_path / "cut.png"
    write_atomic(target, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_atomic_under_a_regular_file_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_bytes(b"not a folder")
    target = blocker / "cut.png"
    with pytest.raises(OutputError, match=r"file\.txt"):
        write_atomic(target, b"data")
    assert blocker.read_bytes() == b"not a folder"
    assert _debris(tmp_path) == []


def test_write_atomic_onto_a_directory_fails_and_keeps_it(tmp_path: Path) -> None:
    folder = tmp_path / "out.png"
    folder.mkdir()
    with pytest.raises(OutputError, match=r"out\.png.*directory"):
        write_atomic(folder, b"data")
    assert folder.is_dir()
    assert _debris(tmp_path) == []


def test_write_atomic_failure_midway_removes_temp_and_keeps_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cut.png"
    target.write_bytes(b"old")

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OutputError, match=r"cut\.png.*No space left"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert _debris(tmp_path) == []
