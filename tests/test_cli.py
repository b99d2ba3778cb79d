"""The ``alphacut`` command, run as a real process with the real u2netp model."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from helpers import PETS, iou_outside_band, truth_for

CLI = [sys.executable, "-m", "alphacut.interfaces.cli"]


def alphacut(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, timeout=300)


def test_help_and_version_load_nothing_heavy() -> None:
    probe = ("import sys, alphacut.interfaces.cli as c; c.build_parser(); "
             "heavy = [m for m in ('numpy', 'onnxruntime', 'cv2', 'PIL', 'rich') "
             "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    assert alphacut("--help").returncode == 0
    version = alphacut("--version")
    assert version.returncode == 0 and b"alphacut 0." in version.stdout


def test_models_list_and_info_show_licences() -> None:
    listing = alphacut("models", "list")
    assert listing.returncode == 0
    text = listing.stdout.decode()
    for name, licence in [("isnet-general", "AGPL-3.0"), ("u2netp", "Apache-2.0"),
                          ("birefnet-general", "MIT")]:
        assert name in text and licence in text
    info = alphacut("models", "info", "u2netp")
    assert info.returncode == 0 and b"309c8469258dda74" in info.stdout
    unknown = alphacut("models", "info", "nope")
    assert unknown.returncode == 2 and b"choose one of" in unknown.stderr


def _mixed_folder(root: Path) -> dict[str, np.ndarray]:
    """19 readable images in many formats and modes, plus one truncated JPEG.

    Returns the expected ground truth (uint8 HxW, 128 = ignore) per readable file.
    """
    (root / "more").mkdir(parents=True)
    ims = [Image.open(p).convert("RGB") for p in PETS]
    truths = [truth_for(p) for p in PETS]
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: a viewer turns it 90 degrees clockwise
    files: dict[str, tuple[int, bytes]] = {}
    for i, pet in enumerate(PETS):
        files[pet.name] = (i, pet.read_bytes())
        files[f"{pet.stem}.webp"] = (i, _save(ims[i], "WEBP", quality=95))
    files.update({
        "cmyk.jpg": (0, _save(ims[0].convert("CMYK"), "JPEG", quality=95)),
        "exif-rotated.jpg": (0, _save(ims[0].transpose(Image.Transpose.ROTATE_90), "JPEG",
                                      quality=95, exif=exif.tobytes())),
        "more/palette.png": (1, _save(ims[1].quantize(256), "PNG")),
        "more/photo.tiff": (1, _save(ims[1], "TIFF")),
        "more/bitmap.bmp": (2, _save(ims[2], "BMP")),
        "more/icc.png": (2, _save(ims[2], "PNG", icc_profile=srgb)),
        "more/still.gif": (3, _save(ims[3], "GIF")),
        "more/gray.png": (3, _save(ims[3].convert("L"), "PNG")),
        "rgba.png": (0, _save(ims[0].convert("RGBA"), "PNG")),
        "la.png": (3, _save(ims[3].convert("LA"), "PNG")),  # grey: a colour-reliant pet fails
    })
    expected = {}
    for name, (i, data) in files.items():
        (root / name).write_bytes(data)
        expected[name] = truths[i]
    rgb16 = np.asarray(ims[2]).astype(np.uint16) * 257
    cv2.imwrite(str(root / "sixteen-bit.png"), np.ascontiguousarray(rgb16[..., ::-1]))
    expected["sixteen-bit.png"] = truths[2]
    data = PETS[1].read_bytes()
    (root / "broken.jpg").write_bytes(data[: len(data) // 2])
    assert len(expected) == 19
    return expected


def _save(im: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


@pytest.mark.model
def test_folder_of_mixed_files_writes_19_and_reports_the_broken_one(tmp_path: Path) -> None:
    truths = _mixed_folder(tmp_path / "in")
    out = tmp_path / "out"
    run = alphacut("remove", str(tmp_path / "in"), "-o", str(out), "-m", "u2netp", "-q")
    assert run.returncode == 2, run.stderr
    stderr = run.stderr.decode()
    assert "broken.jpg" in stderr and "1 failed" in stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(written) == 19  # same-stem inputs (x.jpg, x.webp) get distinct outputs
    for name, truth in truths.items():
        path = Path(name)
        twin = path.suffix == ".webp"
        result = Image.open(out / path.with_name(path.stem + ("-webp" if twin else "") + ".png"))
        assert result.mode == "RGBA"
        alpha = np.asarray(result)[..., 3].astype(np.float32) / 255
        assert alpha.shape == truth.shape, name  # EXIF rotation applied
        if (truth != 128).any():
            assert iou_outside_band(alpha, truth) >= 0.80, name
    assert not list(out.rglob("*.tmp*"))


@pytest.mark.model
def test_single_file_formats_and_options(tmp_path: Path) -> None:
    pet = PETS[0]
    webp = tmp_path / "cut.webp"
    assert alphacut("remove", str(pet), "-o", str(webp), "-m", "u2netp").returncode == 0
    assert Image.open(webp).mode == "RGBA"
    jpeg = tmp_path / "white.jpg"
    run = alphacut("remove", str(pet), "-o", str(jpeg), "-m", "u2netp", "--bg", "white",
                   "--crop")
    assert run.returncode == 0, run.stderr
    im = Image.open(jpeg)
    assert im.format == "JPEG" and im.size != Image.open(pet).size
    mask = tmp_path / "mask.png"
    assert alphacut("remove", str(pet), "-o", str(mask), "-m", "u2netp",
                    "--mask").returncode == 0
    assert Image.open(mask).mode == "L"


@pytest.mark.model
def test_stdin_to_stdout() -> None:
    run = alphacut("remove", "-", "-m", "u2netp", "-q", stdin=PETS[0].read_bytes())
    assert run.returncode == 0, run.stderr
    im = Image.open(io.BytesIO(run.stdout))
    assert im.format == "PNG" and im.mode == "RGBA"
    assert im.size == Image.open(PETS[0]).size


@pytest.mark.model
def test_existing_outputs_are_kept_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "cut.png"
    target.write_bytes(b"keep me")
    args = ["remove", str(PETS[0]), "-o", str(target), "-m", "u2netp", "-q"]
    refused = alphacut(*args)
    assert refused.returncode == 4 and b"--overwrite" in refused.stderr
    assert target.read_bytes() == b"keep me"
    assert alphacut(*args, "--skip-existing").returncode == 0
    assert target.read_bytes() == b"keep me"
    assert alphacut(*args, "--overwrite").returncode == 0
    assert Image.open(target).mode == "RGBA"


def test_bad_inputs_and_unwritable_outputs_fail_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    run = alphacut("remove", str(empty), "-o", str(tmp_path / "x.png"), "-m", "u2netp")
    assert run.returncode == 2 and b"empty" in run.stderr
    missing = alphacut("remove", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "y.png"))
    assert missing.returncode == 2 and b"nope.jpg" in missing.stderr
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = alphacut("remove", str(PETS[0]), "-o", str(blocker / "out.png"), "-m", "u2netp")
    assert run.returncode == 4 and b"out.png" in run.stderr
    bad = alphacut("remove", str(PETS[0]), "--bg", "white", "-f", "jpeg", "--quality", "0",
                   "-o", str(tmp_path / "q.jpg"))
    assert bad.returncode == 2 and b"quality" in bad.stderr
