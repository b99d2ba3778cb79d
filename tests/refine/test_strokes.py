"""Touch-up strokes: hard keep/remove constraints of the matting solve, not a paint-over."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from alphacut.config import Config, RefineOptions
from alphacut.core.refine.strokes import load_strokes, parse_polylines
from alphacut.engine.stages import refine_matte
from alphacut.errors import InvalidOption

SIZE = 200
BLOB = (slice(20, 60), slice(140, 180))  # a background square the "model" took for subject


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red subject (left half, 6 px soft wavy edge) over a textured blue background.

    Returns (rgb ``uint8 (SIZE, SIZE, 3)``, true alpha, a model-like soft mask with the
    background square ``BLOB`` wrongly opaque), alphas ``float32 (SIZE, SIZE)``.
    """
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    edge = SIZE * 0.45 + 8.0 * np.sin(yy / 9.0)
    truth = np.clip((edge - xx) / 6.0 + 0.5, 0.0, 1.0)
    fg = np.stack([0.85 + 0.1 * np.sin(xx / 7.0), 0.15 + 0.05 * np.cos(yy / 5.0),
                   np.full_like(xx, 0.1)], axis=-1)
    bg = np.stack([np.full_like(xx, 0.1), 0.5 + 0.1 * np.sin((xx + yy) / 11.0),
                   0.8 + 0.05 * np.cos(xx / 4.0)], axis=-1)
    image = truth[..., None] * fg + (1.0 - truth[..., None]) * bg
    image += np.random.default_rng(3).normal(0.0, 0.004, image.shape)
    rgb = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    small = cv2.GaussianBlur(cv2.resize(truth, (50, 50), interpolation=cv2.INTER_AREA),
                             (0, 0), 1.0)
    soft = cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    soft[BLOB] = 1.0
    soft = cv2.GaussianBlur(soft, (0, 0), 1.5)
    return rgb, truth.astype(np.float32), soft.astype(np.float32)


REMOVE = json.dumps({"remove": [[[150, 40], [170, 40]]], "width": 6})


def _edge_band(truth: np.ndarray) -> np.ndarray:
    return (truth > 0.05) & (truth < 0.95)


def test_remove_stroke_clears_the_wrong_region_and_keeps_the_edge_soft() -> None:
    rgb, truth, soft = _scene()
    before, _ = refine_matte(rgb, soft, RefineOptions(decontaminate=False))
    after, _ = refine_matte(rgb, soft, RefineOptions(decontaminate=False, strokes=REMOVE))
    assert before[BLOB].mean() > 0.9  # the matte alone keeps the wrong square
    assert after[BLOB].max() < 0.05, after[BLOB].max()  # the whole square, not just the line
    edge = _edge_band(truth)
    values = after[edge]
    assert ((values > 0.1) & (values < 0.9)).mean() > 0.5  # still a soft ramp, not binary
    assert np.abs(after[edge] - truth[edge]).mean() < 0.1
    untouched = np.ones_like(truth, bool)
    untouched[:100, 110:] = False
    assert np.abs(after - before)[untouched].max() < 0.02  # the rest of the photo stays


def test_keep_stroke_restores_a_missed_region() -> None:
    rgb, _, soft = _scene()
    soft = soft.copy()
    soft[140:180, 10:50] = 0.0  # the "model" missed a piece of the subject
    strokes = json.dumps({"keep": [[[20, 160], [40, 160]]], "width": 6})
    after, _ = refine_matte(rgb, soft, RefineOptions(decontaminate=False, strokes=strokes))
    assert after[140:180, 10:50].min() > 0.95


def test_strokes_matte_near_them_even_in_fast() -> None:
    rgb, _, soft = _scene()
    fast = RefineOptions(matting=False, decontaminate=False)
    plain, _ = refine_matte(rgb, soft, fast)
    after, _ = refine_matte(rgb, soft, RefineOptions(matting=False, decontaminate=False,
                                                     strokes=REMOVE))
    assert np.array_equal(plain, soft)
    assert after[BLOB].max() < 0.05
    far = np.ones_like(soft, bool)
    far[:100, 100:] = False
    assert np.array_equal(after[far], soft[far])  # fast stays the model's mask elsewhere


def test_a_stroke_picture_equals_its_polylines() -> None:
    rgb, _, soft = _scene()
    marks = np.full((SIZE // 2, SIZE // 2, 4), (128, 128, 128, 0), np.uint8)  # half size
    cv2.line(marks, (75, 20), (85, 20), (0, 0, 0, 255), 3)
    buffer = io.BytesIO()
    Image.fromarray(marks, "RGBA").save(buffer, "PNG")
    picture = load_strokes(buffer.getvalue(), (SIZE, SIZE))
    assert not picture.keep.any() and picture.remove[40, 160] and not picture.remove[100, 50]
    after, _ = refine_matte(rgb, soft, RefineOptions(decontaminate=False,
                                                     strokes=buffer.getvalue()))
    assert after[BLOB].max() < 0.05


def test_polylines_rasterise_in_photo_pixels() -> None:
    strokes = load_strokes(json.dumps({"keep": [[[10, 10], [30, 10]]], "remove": [[[5, 40]]],
                                       "width": 4}), (50, 60))
    assert strokes.keep[10, 10] and strokes.keep[10, 30] and strokes.keep[11, 20]
    assert not strokes.keep[15, 20] and not strokes.keep[10, 35]
    assert strokes.remove[40, 5] and strokes.remove.sum() < 30  # one dot of the pen's size
    assert parse_polylines('{"keep": []}').width == 12.0


@pytest.mark.parametrize("value", [
    "{not json", '["keep"]', '{"keep": [[[1, 2, 3]]]}', '{"keep": [[]]}',
    '{"keep": [[["a", 1]]]}', '{"keep": [[[NaN, 1]]]}', '{"width": 0}', '{"width": true}',
    '{"erase": []}', '{"remove": {"a": 1}}', 42, "   ",
])
def test_bad_strokes_are_a_typed_invalid_option(value: object) -> None:
    with pytest.raises(InvalidOption):
        Config.build(strokes=value)


def test_an_unreadable_or_misshapen_stroke_picture_is_invalid_option(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidOption):
        load_strokes(str(tmp_path / "missing.png"), (10, 10))
    with pytest.raises(InvalidOption):
        load_strokes(b"not an image", (10, 10))
    buffer = io.BytesIO()
    Image.new("L", (40, 10), 255).save(buffer, "PNG")
    with pytest.raises(InvalidOption, match="shape"):
        load_strokes(buffer.getvalue(), (40, 40))


def test_the_strokes_option_reaches_every_front_door() -> None:
    config = Config.build(strokes=REMOVE)
    assert config.refine.strokes == REMOVE
    assert "strokes" in Config.option_names()
