"""Decode: every input kind and mode becomes RGB uint8 + optional float alpha, or a typed error."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, features

from alphacut.core.decode import decode
from alphacut.core.encode import encode
from alphacut.errors import ImageTooLarge, InvalidImage, UnsupportedImage

PETS = Path("/work/shared/evaldata/oxford_iiit_pet/images")


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _quadrants(width: int = 40, height: int = 20) -> Image.Image:
    """RGB image: red top-left, green top-right, blue bottom-left, white bottom-right."""
    a = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    a[:h2, :w2] = (255, 0, 0)
    a[:h2, w2:] = (0, 255, 0)
    a[h2:, :w2] = (0, 0, 255)
    a[h2:, w2:] = (255, 255, 255)
    return Image.fromarray(a)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` (1-bit grey); pixel data is bogus."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


# --- inputs of every kind -------------------------------------------------------------------


def test_rgb_png_from_path_bytes_fileobj_pil_all_agree(tmp_path: Path) -> None:
    im = _quadrants()
    path = tmp_path / "q.png"
    im.save(path)
    expected = np.asarray(im)
    for source in (path, str(path), path.read_bytes(), bytearray(path.read_bytes())):
        d = decode(source)
        assert np.array_equal(d.rgb, expected)
    with path.open("rb") as f:
        assert np.array_equal(decode(f).rgb, expected)
    d = decode(memoryview(path.read_bytes()))
    assert d.rgb.dtype == np.uint8 and d.rgb.shape == (20, 40, 3)
    assert d.rgb.flags.c_contiguous and d.rgb.flags.writeable
    assert d.alpha is None
    assert (d.meta.width, d.meta.height, d.meta.source_format, d.meta.source_mode) == (
        40,
        20,
        "PNG",
        "RGB",
    )
    pil = decode(Image.open(path))
    assert np.array_equal(pil.rgb, expected)


def test_real_photo_decodes(tmp_path: Path) -> None:
    photos = sorted(PETS.glob("*.jpg"))[:1] if PETS.is_dir() else []
    if not photos:
        pytest.skip("no Oxford-IIIT Pet photos in /work/shared/evaldata")
    d = decode(photos[0])
    with Image.open(photos[0]) as im:
        assert (d.meta.width, d.meta.height) == im.size
    assert d.meta.source_format == "JPEG"
    assert d.rgb.std() > 10  # a real picture, not a blank


@pytest.mark.parametrize(
    ("array", "expected_rgb", "expected_alpha"),
    [
        (np.full((2, 3), 200, np.uint8), (200, 200, 200), None),
        (np.full((2, 3), 65535, np.uint16), (255, 255, 255), None),
        (np.full((2, 3), 0.5, np.float32), (128, 128, 128), None),
        (np.full((2, 3, 3), (10, 20, 30), np.uint8), (10, 20, 30), None),
        (np.full((2, 3, 3), (0, 32896, 65535), np.uint16), (0, 128, 255), None),
        (np.full((2, 3, 3), (0.0, 0.5, 1.0), np.float64), (0, 128, 255), None),
        (np.full((2, 3, 4), (1, 2, 3, 51), np.uint8), (1, 2, 3), 0.2),
        (np.full((2, 3, 4), (0, 0, 65535, 32768), np.uint16), (0, 0, 255), 32768 / 65535),
        (np.full((2, 3, 4), (1.0, 0.0, 0.0, 0.25), np.float32), (255, 0, 0), 0.25),
        (np.full((2, 3, 4), (1, 2, 3, 255), np.uint8), (1, 2, 3), None),
    ],
)
def test_numpy_inputs(
    array: np.ndarray, expected_rgb: tuple[int, int, int], expected_alpha: float | None
) -> None:
    d = decode(array)
    assert d.rgb.shape == (2, 3, 3) and d.rgb.dtype == np.uint8 and d.rgb.flags.c_contiguous
    assert tuple(d.rgb[1, 2]) == expected_rgb
    if expected_alpha is None:
        assert d.alpha is None
    else:
        assert d.alpha is not None and d.alpha.dtype == np.float32
        assert d.alpha.shape == (2, 3)
        assert d.alpha[0, 0] == pytest.approx(expected_alpha, abs=1e-6)
    assert (d.meta.width, d.meta.height) == (3, 2)


def test_numpy_input_is_not_aliased() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    d = decode(a)
    d.rgb[:] = 9
    assert a.max() == 0


@pytest.mark.parametrize(
    ("array", "error"),
    [
        (np.zeros((2, 3), np.int32), UnsupportedImage),
        (np.zeros((2, 3, 2), np.uint8), UnsupportedImage),
        (np.zeros((0, 3, 3), np.uint8), InvalidImage),
        (np.full((2, 3), 2.0, np.float32), InvalidImage),
        (np.full((2, 3), np.nan, np.float32), InvalidImage),
    ],
)
def test_bad_numpy_inputs(array: np.ndarray, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode(array)


def test_unknown_source_type() -> None:
    with pytest.raises(UnsupportedImage, match="int"):
        decode(12345)  # type: ignore[arg-type]


# --- modes ----------------------------------------------------------------------------------


def test_rgba_alpha_carried_and_opaque_alpha_is_none() -> None:
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., 0] = 200
    a[..., 3] = 255
    assert decode(_save(Image.fromarray(a), "PNG")).alpha is None
    a[0, 0, 3] = 0
    a[1, 1, 3] = 128
    d = decode(_save(Image.fromarray(a), "PNG"))
    assert d.alpha is not None and d.alpha.dtype == np.float32
    assert d.alpha[0, 0] == 0.0 and d.alpha[1, 1] == pytest.approx(128 / 255)
    assert d.alpha[3, 3] == 1.0
    assert d.rgb[2, 2, 0] == 200


def test_la_png() -> None:
    la = np.zeros((3, 3, 2), np.uint8)
    la[..., 0] = 90
    la[..., 1] = 255
    la[0, 0, 1] = 0
    d = decode(_save(Image.fromarray(la, "LA"), "PNG"))
    assert tuple(d.rgb[1, 1]) == (90, 90, 90)
    assert d.alpha is not None and d.alpha[0, 0] == 0.0 and d.alpha[1, 1] == 1.0
    assert d.meta.source_mode == "LA"


def test_palette_png_with_and_without_transparency() -> None:
    p = Image.new("P", (4, 2))
    p.putpalette([255, 0, 0, 0, 0, 255])
    p.putpixel((3, 1), 1)
    plain = decode(_save(p, "PNG"))
    assert plain.alpha is None
    assert tuple(plain.rgb[0, 0]) == (255, 0, 0) and tuple(plain.rgb[1, 3]) == (0, 0, 255)
    d = decode(_save(p, "PNG", transparency=0))
    assert d.meta.source_mode == "P"
    assert d.alpha is not None
    assert d.alpha[0, 0] == 0.0 and d.alpha[1, 3] == 1.0
    assert tuple(d.rgb[1, 3]) == (0, 0, 255)


def test_grey_and_bilevel() -> None:
    g = decode(_save(Image.fromarray(np.array([[0, 128, 255]], np.uint8)), "PNG"))
    assert g.rgb[0, :, 0].tolist() == [0, 128, 255] and g.rgb.shape == (1, 3, 3)
    b = Image.new("1", (4, 1))
    b.putpixel((2, 0), 1)
    d = decode(_save(b, "PNG"))
    assert d.rgb[0, :, 1].tolist() == [0, 0, 255, 0]


def test_16bit_grey_png_ramp_is_scaled_not_clipped() -> None:
    ramp16 = (np.arange(256, dtype=np.uint32) * 257).astype(np.uint16)[None].repeat(3, 0)
    data = _save(Image.fromarray(ramp16), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"  # Pillow reads it as 16-bit
    d = decode(data)
    assert d.rgb[1, :, 0].tolist() == list(range(256))
    assert np.array_equal(d.rgb[..., 0], d.rgb[..., 2])


def test_big_endian_16bit_and_32bit_modes_from_pil() -> None:
    be = Image.frombytes("I;16B", (3, 1), np.array([0, 32896, 65535], ">u2").tobytes())
    assert decode(be).rgb[0, :, 0].tolist() == [0, 128, 255]
    as_i = Image.fromarray(np.array([[0, 32896, 65535]], np.int32))
    assert as_i.mode == "I"
    assert decode(as_i).rgb[0, :, 0].tolist() == [0, 128, 255]
    as_f = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert as_f.mode == "F"
    assert decode(as_f).rgb[0, :, 0].tolist() == [0, 128, 255]


def test_16bit_rgb_png_written_by_opencv(tmp_path: Path) -> None:
    bgr = np.zeros((4, 6, 3), np.uint16)
    bgr[..., 2] = 65535  # red
    bgr[..., 1] = 32768  # half green
    path = tmp_path / "rgb16.png"
    assert cv2.imwrite(str(path), bgr)
    d = decode(path)
    assert d.rgb.shape == (4, 6, 3) and d.rgb.dtype == np.uint8
    assert d.rgb[0, 0, 0] == 255 and abs(int(d.rgb[0, 0, 1]) - 128) <= 1 and d.rgb[0, 0, 2] == 0


def test_16bit_rgba_png_keeps_alpha(tmp_path: Path) -> None:
    bgra = np.zeros((4, 6, 4), np.uint16)
    bgra[..., 0] = 65535
    bgra[..., 3] = 65535
    bgra[0, 0, 3] = 0
    path = tmp_path / "rgba16.png"
    assert cv2.imwrite(str(path), bgra)
    d = decode(path)
    assert tuple(d.rgb[1, 1]) == (0, 0, 255)
    assert d.alpha is not None and d.alpha[0, 0] == 0.0 and d.alpha[1, 1] == 1.0


@pytest.mark.parametrize("mode", ["YCbCr", "RGBX"])
def test_other_rgb_like_modes(mode: str) -> None:
    im = Image.new("RGB", (4, 4), (200, 30, 60)).convert(mode)
    d = decode(im)
    assert d.meta.source_mode == mode
    assert np.abs(d.rgb[0, 0].astype(int) - (200, 30, 60)).max() <= 3


# --- CMYK -----------------------------------------------------------------------------------


def _srgb_to_lab_d50(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0..1 -> CIELAB relative to D50 (the ICC profile connection space)."""
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [
            [0.4360747, 0.3850649, 0.1430804],
            [0.2225045, 0.7168786, 0.0606169],
            [0.0139322, 0.0971045, 0.7141733],
        ]
    )
    xyz = lin @ m.T / np.array([0.9642, 1.0, 0.8249])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def _swapped_cmyk_profile() -> bytes:
    """A minimal ICC v2 CMYK input profile (lut8 A2B0, 2-point grid) that maps cyan ink to
    yellow and yellow ink to cyan, so the test can tell it was honoured."""
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * 4, indexing="ij")).reshape(4, -1).T
    c, m, y, k = corners.T
    rgb = np.stack([(1 - y) * (1 - k), (1 - m) * (1 - k), (1 - c) * (1 - k)], axis=-1)
    lab = _srgb_to_lab_d50(rgb)
    enc = np.stack([lab[:, 0] * 255 / 100, lab[:, 1] + 128, lab[:, 2] + 128], axis=-1)
    clut = np.clip(np.round(enc), 0, 255).astype(np.uint8).tobytes()
    ramp = bytes(range(256))
    identity = b"".join(struct.pack(">i", v) for v in (65536, 0, 0, 0, 65536, 0, 0, 0, 65536))
    a2b0 = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + identity + ramp * 4 + clut + ramp * 3
    d50 = struct.pack(">iii", 63190, 65536, 54061)
    wtpt = b"XYZ " + bytes(4) + d50
    tags = [(b"A2B0", a2b0), (b"wtpt", wtpt)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"scnrCMYKLab "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + d50
        + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def _cmyk_swatches() -> Image.Image:
    """CMYK image: pure cyan ink on the left half, pure yellow ink on the right."""
    a = np.zeros((8, 16, 4), np.uint8)
    a[:, :8, 0] = 255
    a[:, 8:, 2] = 255
    return Image.fromarray(a, "CMYK")


def test_cmyk_jpeg_without_profile_converts_naively() -> None:
    d = decode(_save(_cmyk_swatches(), "JPEG", quality=95))
    assert d.meta.source_mode == "CMYK" and d.meta.icc_profile is None
    assert np.abs(d.rgb[4, 2].astype(int) - (0, 255, 255)).max() <= 8  # cyan
    assert np.abs(d.rgb[4, 13].astype(int) - (255, 255, 0)).max() <= 8  # yellow


def test_cmyk_jpeg_with_profile_uses_it_and_drops_it() -> None:
    profile = _swapped_cmyk_profile()
    ImageCms.ImageCmsProfile(io.BytesIO(profile))  # lcms accepts it
    d = decode(_save(_cmyk_swatches(), "JPEG", quality=95, icc_profile=profile))
    assert d.meta.source_mode == "CMYK"
    assert d.meta.icc_profile is None  # a CMYK profile cannot describe the RGB output
    assert np.abs(d.rgb[4, 2].astype(int) - (255, 255, 0)).max() <= 12  # cyan ink -> yellow
    assert np.abs(d.rgb[4, 13].astype(int) - (0, 255, 255)).max() <= 12  # yellow ink -> cyan


def test_cmyk_with_broken_profile_still_decodes() -> None:
    junk = bytes(16) + b"CMYK" + bytes(200)
    d = decode(_save(_cmyk_swatches(), "JPEG", quality=95, icc_profile=junk))
    assert np.abs(d.rgb[4, 2].astype(int) - (0, 255, 255)).max() <= 8
    assert d.meta.icc_profile is None


# --- ICC, EXIF, animation -------------------------------------------------------------------


def test_icc_profile_carried_to_the_encoder() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    d = decode(_save(_quadrants(), "PNG", icc_profile=srgb))
    assert d.meta.icc_profile == srgb
    for fmt in ("png", "webp", "tiff", "jpeg"):
        out = encode(d.rgb, fmt, icc_profile=d.meta.icc_profile)
        assert Image.open(io.BytesIO(out)).info.get("icc_profile") == srgb, fmt


def test_grey_icc_profile_not_carried_to_rgb() -> None:
    grey_profile = bytes(16) + b"GRAY" + bytes(108)
    im = Image.new("L", (4, 4), 100)
    im.info["icc_profile"] = grey_profile
    assert decode(im).meta.icc_profile is None


def test_exif_orientation_6_rotates_content() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = _save(_quadrants(40, 20), "JPEG", quality=95, exif=exif)
    d = decode(data)
    assert d.meta.exif_rotated
    assert d.rgb.shape == (40, 20, 3)  # width and height swapped
    assert (d.meta.width, d.meta.height) == (20, 40)
    # the stored top-left red quadrant is now at the top-right
    assert np.abs(d.rgb[3, 17].astype(int) - (255, 0, 0)).max() <= 10
    assert np.abs(d.rgb[3, 2].astype(int) - (0, 0, 255)).max() <= 10  # blue now top-left
    plain = decode(_save(_quadrants(40, 20), "JPEG", quality=95))
    assert not plain.meta.exif_rotated and plain.rgb.shape == (20, 40, 3)


def test_animated_gif_first_frame_and_frame_count() -> None:
    frames = [
        Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    ]
    data = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    d = decode(data)
    assert d.meta.frames == 3 and d.meta.source_format == "GIF"
    assert tuple(d.rgb[4, 4]) == (255, 0, 0)


def test_animated_webp_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((0, 0, 255), (0, 255, 0))]
    data = _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    d = decode(data)
    assert d.meta.frames == 2
    assert tuple(d.rgb[4, 4]) == (0, 0, 255)


def test_avif_round_trip() -> None:
    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF codec")
    data = _save(Image.new("RGB", (16, 16), (200, 40, 40)), "AVIF", quality=90)
    d = decode(data)
    assert d.meta.source_format == "AVIF" and d.rgb.shape == (16, 16, 3)
    assert np.abs(d.rgb[8, 8].astype(int) - (200, 40, 40)).max() <= 12


def test_heic_round_trip_via_lazy_pillow_heif() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    buf = io.BytesIO()
    try:
        pillow_heif.from_pillow(Image.new("RGB", (16, 16), (40, 40, 200))).save(buf, quality=90)
    except (RuntimeError, ValueError, OSError) as e:
        pytest.skip(f"pillow_heif has no HEIC encoder here: {e}")
    d = decode(buf.getvalue())
    assert d.rgb.shape == (16, 16, 3)
    assert np.abs(d.rgb[8, 8].astype(int) - (40, 40, 200)).max() <= 12


# --- errors ---------------------------------------------------------------------------------


def test_zero_bytes(tmp_path: Path) -> None:
    with pytest.raises(InvalidImage, match="empty input"):
        decode(b"")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InvalidImage, match=r"empty input.*empty\.png"):
        decode(empty)


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is text\n" * 10,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        bytes(range(256)) * 8,
    ],
    ids=["text", "pdf", "random"],
)
def test_not_an_image(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    with pytest.raises(UnsupportedImage, match=r"notes\.txt"):
        decode(path)
    with pytest.raises(UnsupportedImage):
        decode(data)


def test_random_bytes() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(UnsupportedImage):
        decode(rng.bytes(4096))


def test_truncated_jpeg(tmp_path: Path) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    noise = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = _save(Image.fromarray(noise), "JPEG", quality=90)
    path = tmp_path / "half.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidImage, match=r"half\.jpg.*truncated") as info:
        decode(path)
    assert not isinstance(info.value, UnsupportedImage)


def test_truncated_png() -> None:
    noise = np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = _save(Image.fromarray(noise), "PNG")
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        decode(data[: len(data) // 2])


@pytest.mark.parametrize("chunk", [b"IHDR", b"IDAT"])
def test_png_with_bad_crc(chunk: bytes) -> None:
    data = bytearray(_save(_quadrants(), "PNG"))
    start = data.index(chunk) - 4
    length = struct.unpack(">I", data[start : start + 4])[0]
    data[start + 8 + length] ^= 0xFF  # first CRC byte
    with pytest.raises(InvalidImage, match="corrupt PNG"):
        decode(bytes(data))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidImage, match=r"no such file.*nope\.png"):
        decode(tmp_path / "nope.png")
    with pytest.raises(InvalidImage, match="directory"):
        decode(tmp_path)


def test_text_mode_file_object(tmp_path: Path) -> None:
    path = tmp_path / "t.png"
    path.write_bytes(_save(_quadrants(), "PNG"))
    with path.open("r", encoding="latin-1") as f, pytest.raises(UnsupportedImage, match="'rb'"):
        decode(f)


# --- limits ---------------------------------------------------------------------------------


def test_decompression_bomb_header_is_rejected_before_decoding() -> None:
    bomb = _png_header_only(30000, 30000)  # 900 MP claimed, ~100 bytes on disk
    assert len(bomb) < 200
    with pytest.raises(ImageTooLarge, match="900000000 pixels"):
        decode(bomb)


def test_image_over_our_limit_but_under_pils_raises_without_warning() -> None:
    data = _png_header_only(12000, 10000)  # 120 MP: PIL only warns, our default limit is 100 MP
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooLarge, match=r"12000x10000.*100000000"):
            decode(data)


def test_small_max_pixels_on_normal_image() -> None:
    data = _save(_quadrants(40, 20), "PNG")
    with pytest.raises(ImageTooLarge, match="800"):
        decode(data, max_pixels=799)
    assert decode(data, max_pixels=800).rgb.shape == (20, 40, 3)
    with pytest.raises(ImageTooLarge):
        decode(np.zeros((20, 40, 3), np.uint8), max_pixels=100)
    with pytest.raises(ImageTooLarge):
        decode(_quadrants(40, 20), max_pixels=100)


def test_max_bytes(tmp_path: Path) -> None:
    data = _save(_quadrants(), "PNG")
    path = tmp_path / "q.png"
    path.write_bytes(data)
    with pytest.raises(ImageTooLarge, match="bytes"):
        decode(data, max_bytes=len(data) - 1)
    with pytest.raises(ImageTooLarge, match=r"q\.png"):
        decode(path, max_bytes=10)
    with path.open("rb") as f, pytest.raises(ImageTooLarge):
        decode(f, max_bytes=10)
    assert decode(data, max_bytes=len(data)).rgb.shape == (20, 40, 3)
