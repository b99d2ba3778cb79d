"""--layers: one layer per subject of a flat-lay made from ../shared/evaldata objects."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from flatlay import build, match
from PIL import Image

from alphacut.core.layers import reading_order, split_matte
from helpers import evaldata

needs_evaldata = pytest.mark.skipif(evaldata() is None, reason="../shared/evaldata absent")


@pytest.fixture(scope="module")
def flat():  # type: ignore[no-untyped-def]
    return build(evaldata(), 5)  # type: ignore[arg-type]


def _with_specks(alpha: np.ndarray) -> np.ndarray:
    """The matte plus specks: three far from any object (to drop), two touching-close to the
    first object (to merge), and a faint haze (alpha 0.2) around an object."""
    out = alpha.copy()
    for y, x in ((355, 540), (700, 20), (10, 1060)):
        out[y:y + 4, x:x + 4] = 1.0
    ys, xs = np.nonzero(alpha > 0.5)
    first = (ys < 360) & (xs < 360)
    y1, x1 = ys[first].max(), xs[first][np.argmax(ys[first])]
    out[y1 + 4:y1 + 7, x1:x1 + 3] = 1.0
    out[y1 + 9:y1 + 11, x1 + 2:x1 + 4] = 1.0
    return out


@needs_evaldata
def test_true_matte_with_specks_gives_one_layer_per_object(flat) -> None:  # type: ignore[no-untyped-def]
    alpha = _with_specks(flat.alpha)
    layers = split_matte(alpha)
    assert len(layers) == len(flat.objects) == 5
    ious = match([layer.alpha > 0.5 for layer in layers], flat.objects)
    assert min(ious) >= 0.9, ious
    # in reading order: the grid's row-major order; layers never overlap, stack to the matte
    assert [layer.index for layer in layers] == [1, 2, 3, 4, 5]
    best = [int(np.argmax([np.count_nonzero((lay.alpha > 0.5) & obj) for lay in layers]))
            for obj in flat.objects]
    assert best == [0, 1, 2, 3, 4]
    stacked = np.sum([layer.alpha for layer in layers], axis=0)
    assert np.all(np.count_nonzero([layer.alpha > 0 for layer in layers], axis=0) <= 1)
    far = np.zeros_like(alpha, bool)
    far[355:359, 540:544] = far[700:704, 20:24] = far[10:14, 1060:1064] = True
    assert np.all(stacked[far] == 0)  # far specks dropped
    assert np.allclose(stacked[~far], alpha[~far])  # everything else kept (near specks merged)


@needs_evaldata
def test_u2netp_finds_every_object(flat, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    result = u2netp_remover.remove(flat.image)
    layers = split_matte(result.alpha)
    ious = match([layer.alpha > 0.5 for layer in layers], flat.objects)
    print("u2netp flat-lay IoUs:", [round(v, 3) for v in ious])  # measured: 0.94 .. 0.99
    assert len(layers) == len(flat.objects)
    assert min(ious) >= 0.9, ious


def test_reading_order_rows_then_columns() -> None:
    boxes = [(300, 12, 50, 50), (10, 0, 50, 60), (150, 200, 40, 40), (20, 190, 40, 40)]
    assert reading_order(boxes) == [1, 0, 3, 2]
    assert split_matte(np.zeros((50, 50), np.float32)) == []


@needs_evaldata
def test_cli_writes_layers_and_json(flat, tmp_path: Path, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    from alphacut.interfaces.cli import main

    source = tmp_path / "in" / "shop.png"
    source.parent.mkdir()
    Image.fromarray(flat.image).save(source)
    clash = source.with_name("shop-1.png")  # its own layers must not meet shop's layer 1
    Image.fromarray(flat.image[:360, :540]).save(clash)
    out = tmp_path / "out"
    code = main(["remove", str(source.parent), "-o", str(out), "--layers", "-m", "u2netp",
                 "--quiet"])
    assert code == 0
    doc = json.loads((out / "shop-layers.json").read_text())
    assert [e["file"] for e in doc["layers"]] == [f"shop-{n}.png" for n in range(1, 6)]
    assert (doc["width"], doc["height"]) == (1080, 720)
    for entry, obj in zip(doc["layers"], flat.objects, strict=True):
        rgba = np.asarray(Image.open(out / entry["file"]))
        assert rgba.shape == (720, 1080, 4)
        ys, xs = np.nonzero(obj)
        box = entry["box"]
        assert abs(box["x"] - xs.min()) <= 4 and abs(box["y"] - ys.min()) <= 4
        assert abs(entry["area"] - obj.sum()) <= 0.1 * obj.sum()
    assert not (out / "shop.png").exists()
    clash_doc = json.loads((out / "shop-1-layers.json").read_text())
    assert [e["file"] for e in clash_doc["layers"]][:1] == ["shop-1-1.png"]
    assert main(["remove", str(source), "-o", str(out), "--layers", "-m", "u2netp",
                 "--quiet"]) != 0  # exists: refused without --overwrite


@needs_evaldata
def test_render_zip_holds_layers_and_manifest(flat, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    result = u2netp_remover.remove(flat.image)
    data = u2netp_remover.render(result, layers=True)
    with zipfile.ZipFile(BytesIO(data)) as zf:
        names = zf.namelist()
        doc = json.loads(zf.read("layer-layers.json"))
        first = np.asarray(Image.open(BytesIO(zf.read("layer-1.png"))))
    assert names == [*(f"layer-{n}.png" for n in range(1, 6)), "layer-layers.json"]
    assert len(doc["layers"]) == 5 and first.shape == (720, 1080, 4)
    assert np.count_nonzero((first[..., 3] > 127) & flat.objects[0]) > 0.9 * flat.objects[0].sum()


def test_library_layers_and_save_layers(tmp_path: Path) -> None:
    from alphacut.api import layers, save_layers
    from alphacut.types import ImageMeta, Result, SoftMask

    alpha = np.zeros((120, 200), np.float32)
    alpha[10:50, 120:190] = 1.0  # top right
    alpha[60:110, 10:60] = 0.8  # bottom left
    rgb = np.full((120, 200, 3), 90, np.uint8)
    result = Result(image=rgb, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=rgb,
                    meta=ImageMeta(width=200, height=120), model="test")
    found = layers(result)
    assert [layer.box for layer in found] == [(120, 10, 70, 40), (10, 60, 50, 50)]
    assert [layer.area for layer in found] == [2800, 2500]
    paths = save_layers(result, tmp_path / "cut.png", feather=4)
    assert [p.name for p in paths] == ["cut-1.png", "cut-2.png", "cut-layers.json"]
    second = np.asarray(Image.open(paths[1]))
    assert second[85, 35, 3] == 204 and second[62, 35, 3] < 204  # feathered edge
    assert np.all(second[:, 100:, 3] == 0)  # only its own subject
    assert not (tmp_path / "cut.png").exists()


def test_layers_refuse_other_formats_and_the_ray_engine(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from alphacut.interfaces.cli import main
    from helpers import PETS

    for extra in (["--format", "webp"], ["--engine", "ray"]):
        code = main(["remove", str(PETS[0]), "-o", str(tmp_path), "--layers", *extra])
        assert code == 2
    err = capsys.readouterr().err
    assert "layers are written as PNG" in err and "local engine only" in err
    assert not any(tmp_path.iterdir())


def test_rewriting_layers_removes_the_earlier_runs_extra_layers(tmp_path: Path) -> None:
    from alphacut.api import save_layers
    from alphacut.types import ImageMeta, Result, SoftMask

    def result(count: int) -> Result:
        alpha = np.zeros((60, 200), np.float32)
        for k in range(count):
            alpha[10:50, 10 + 60 * k:50 + 60 * k] = 1.0
        rgb = np.zeros((60, 200, 3), np.uint8)
        return Result(image=rgb, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=rgb,
                      meta=ImageMeta(width=200, height=60), model="test")

    other = tmp_path / "cut-9.png.keep"
    other.write_bytes(b"not a layer")
    assert len(save_layers(result(3), tmp_path / "cut.png")) == 4
    assert len(save_layers(result(1), tmp_path / "cut.png")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut-1.png", "cut-9.png.keep",
                                                          "cut-layers.json"]


@needs_evaldata
def test_layers_follow_the_layout_options_and_stack_to_the_png(flat, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    result = u2netp_remover.remove(flat.image)
    layout = {"crop": True, "size": "600x400"}
    with zipfile.ZipFile(BytesIO(u2netp_remover.render(result, layers=True, **layout))) as zf:
        doc = json.loads(zf.read("layer-layers.json"))
        planes = [np.asarray(Image.open(BytesIO(zf.read(e["file"]))))[..., 3].astype(int)
                  for e in doc["layers"]]
    png = np.asarray(Image.open(BytesIO(u2netp_remover.render(result, **layout))))
    assert (doc["width"], doc["height"]) == (600, 400) and len(planes) == 5
    assert all(plane.shape == (400, 600) for plane in planes)
    stacked = np.sum(planes, axis=0)
    assert np.mean(np.abs(stacked - png[..., 3].astype(int)) <= 1) > 0.999
