"""Layout: exact canvas sizes and the subject's box (±1 px) for crop, crop_margin, size, scale
and position, alone and combined; edges resampled premultiplied (no dark fringe)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alphacut.config import Config, OutputOptions
from alphacut.core.finish.layout import arrange, tight_box
from alphacut.engine.stages import compose
from alphacut.errors import InvalidOption
from alphacut.types import ImageMeta, Result, SoftMask

PETS = Path(__file__).resolve().parents[1] / "fixtures" / "pets"


def _block(h: int = 200, w: int = 300, box: tuple[int, int, int, int] = (50, 110, 60, 180)
           ) -> tuple[np.ndarray, np.ndarray]:
    """A solid subject (alpha 1, colour (200, 40, 10)) at ``box`` (y0, y1, x0, x1)."""
    alpha = np.zeros((h, w), np.float32)
    y0, y1, x0, x1 = box
    alpha[y0:y1, x0:x1] = 1.0
    fg = np.zeros((h, w, 3), np.uint8)
    fg[...] = (200, 40, 10)
    return alpha, fg


def _out(**options: object) -> OutputOptions:
    return Config.build(**options).output


def _box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    """The subject's box where alpha crosses one half (resampling softens a hard edge)."""
    box = tight_box((alpha >= 0.5).astype(np.float32))
    assert box is not None
    return box


def _close(got: tuple[int, ...], want: tuple[float, ...], tol: float = 1.0) -> None:
    assert all(abs(g - w) <= tol for g, w in zip(got, want, strict=True)), (got, want)


def test_nothing_asked_is_the_same_arrays() -> None:
    alpha, fg = _block()
    a, f = arrange(alpha, fg, _out())
    assert a is alpha and f is fg


@pytest.mark.parametrize(("margin", "want_shape", "want_box"), [
    (0, (60, 120), (0, 60, 0, 120)),
    ("10px", (80, 140), (10, 70, 10, 130)),
    ("10", (80, 140), (10, 70, 10, 130)),
    ("10px 20px", (80, 160), (10, 70, 20, 140)),
    ("1px,2px,3px,4px", (64, 126), (1, 61, 4, 124)),
    ("10%", (72, 144), (6, 66, 12, 132)),  # 10 % of 60 rows and of 120 columns
    ("50% 0", (120, 120), (30, 90, 0, 120)),
    ("5px 10% 0 25%", (65, 162), (5, 65, 30, 150)),
])
def test_crop_margin_px_and_percent_of_the_subject_box(margin: object, want_shape: tuple,
                                                       want_box: tuple) -> None:
    alpha, fg = _block()
    a, f = arrange(alpha, fg, _out(crop=True, crop_margin=margin))
    assert a.shape == want_shape and f.shape == (*want_shape, 3)
    assert _box(a) == want_box


def test_margin_past_the_photo_adds_transparent_pixels() -> None:
    alpha, fg = _block(box=(0, 60, 10, 120))
    a, f = arrange(alpha, fg, _out(crop=True, crop_margin="20px"))
    assert a.shape == (100, 150)
    assert _box(a) == (20, 80, 20, 130)
    assert not a[:20].any() and not f[:20].any()


def test_margin_does_nothing_without_crop() -> None:
    alpha, fg = _block()
    a, _ = arrange(alpha, fg, _out(crop_margin="30%", position="original"))
    np.testing.assert_array_equal(a, alpha)


def test_size_alone_fits_the_picture_in_the_canvas() -> None:
    alpha, fg = _block()  # 300 x 200 photo, subject (50..110, 60..180)
    a, _ = arrange(alpha, fg, _out(size="600x600"))
    assert a.shape == (600, 600)  # factor 2, the photo letterboxed: 100 px bands top and bottom
    _close(_box(a), (200, 320, 120, 360))


@pytest.mark.parametrize(("position", "want"), [
    ("center", (150, 250, 100, 300)),
    (None, (150, 250, 100, 300)),  # scale implies center
    ("bottom", (300, 400, 100, 300)),
    ("top", (0, 100, 100, 300)),
    ("0,0", (0, 100, 0, 200)),
    ("100%,100%", (300, 400, 200, 400)),
    ("25% 75%", (225, 325, 50, 250)),
    ("50%", (150, 250, 100, 300)),
])
def test_scale_and_position_on_a_new_canvas(position: str | None, want: tuple) -> None:
    alpha, fg = _block()  # subject 120 x 60: at 50 % of a 400 x 400 canvas it is 200 x 100
    a, _ = arrange(alpha, fg, _out(size="400x400", scale="50%", position=position))
    assert a.shape == (400, 400)
    _close(_box(a), want)


def test_scale_uses_the_tighter_side_and_keeps_the_aspect() -> None:
    alpha, fg = _block(box=(20, 180, 100, 140))  # 40 wide, 160 tall: height decides
    a, _ = arrange(alpha, fg, _out(size="1000x500", scale="80%"))
    assert a.shape == (500, 1000)
    _close(_box(a), (50, 450, 450, 550))  # 400 tall, 100 wide, centred


def test_scale_without_size_keeps_the_photo_canvas() -> None:
    alpha, fg = _block()
    a, _ = arrange(alpha, fg, _out(scale="90%"))  # 120 x 60 box; width decides: factor 2.25
    assert a.shape == (200, 300)
    _close(_box(a), (32.5, 167.5, 15, 285))  # 270 x 135, centred


def test_position_alone_moves_the_subject_on_the_photo_canvas() -> None:
    alpha, fg = _block()
    a, _ = arrange(alpha, fg, _out(position="bottom"))
    assert a.shape == (200, 300)
    _close(_box(a), (140, 200, 90, 210))


def test_original_position_keeps_the_place_when_scaling() -> None:
    alpha, fg = _block()  # box centre (80, 120)
    a, _ = arrange(alpha, fg, _out(scale="20%", position="original"))
    assert a.shape == (200, 300)
    y0, y1, x0, x1 = _box(a)  # 0.2 * min(200/60, 300/120) = 0.5 -> 60 x 30 around (80, 120)
    _close((y0, y1, x0, x1), (65, 95, 90, 150))


def test_crop_then_canvas_places_the_crop_with_its_margin() -> None:
    alpha, fg = _block()
    a, _ = arrange(alpha, fg, _out(crop=True, crop_margin="30px", size="360x360",
                                   scale="100%", position="bottom"))
    # crop 120 x 180 (subject 60 x 120 + 30 px each side); width decides: factor 2, so the
    # crop is 240 x 360 at the bottom (rows 120..360) and the subject 60 px inside it
    assert a.shape == (360, 360)
    _close(_box(a), (180, 300, 60, 300))


def test_a_small_canvas_clips_the_rest_of_the_photo() -> None:
    alpha, fg = _block()
    alpha[195:200, 0:300] = 0.04  # faint haze below the box threshold: clipped away
    a, _ = arrange(alpha, fg, _out(size="50x50", scale="100%"))
    assert a.shape == (50, 50)  # 120 x 60 -> 50 x 25, centred; the rest of the photo clipped
    _close(_box(a), (12.5, 37.5, 0, 50))


def test_no_subject_keeps_the_whole_picture() -> None:
    alpha = np.zeros((40, 60), np.float32)
    fg = np.zeros((40, 60, 3), np.uint8)
    a, _ = arrange(alpha, fg, _out(crop=True, size="120x80"))
    assert a.shape == (80, 120) and not a.any()


def test_resampling_is_premultiplied_no_dark_fringe() -> None:
    alpha = np.zeros((64, 64), np.float32)
    alpha[16:48, 16:48] = 1.0
    alpha[16:48, 15] = 0.5
    fg = np.zeros((64, 64, 3), np.uint8)  # black where alpha is 0: the cut-out's convention
    fg[alpha > 0] = (250, 250, 250)
    for size in ("23x23", "300x300"):
        a, f = arrange(alpha, fg, _out(size=size))
        edge = (a > 0.02) & (a < 0.98)
        assert edge.any()
        assert f[edge].min() >= 240, size  # straight colour stays white at the soft edge


def test_photo_and_mask_over_a_colour_at_marketplace_size() -> None:
    """A real fixture photo and its mask: 1000x1000 over white, subject 80 % centred."""
    photo = np.asarray(Image.open(PETS / "shiba_inu_208.jpg").convert("RGB"))
    mask = np.asarray(Image.open(PETS / "shiba_inu_208.mask.png").convert("L"))
    alpha = (mask == 255).astype(np.float32)
    result = Result(image=photo, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=photo,
                    meta=ImageMeta(photo.shape[1], photo.shape[0]), model="test")
    out = compose(result, _out(size="1000x1000", scale="80%", bg="white"))
    assert out.shape == (1000, 1000, 3)
    assert (out[:20] == 255).all() and (out[-20:] == 255).all()  # white bands around the dog
    rgba = compose(result, _out(size="1000x1000", scale="80%"))
    y0, y1, x0, x1 = _box(rgba[..., 3] / 255.0)
    assert max(y1 - y0, x1 - x0) == pytest.approx(800, abs=1)
    assert (y0 + y1) / 2 == pytest.approx(500, abs=1)
    assert (x0 + x1) / 2 == pytest.approx(500, abs=1)
    np.testing.assert_array_equal(out[rgba[..., 3] == 0], 255)
    assert rgba.shape == (1000, 1000, 4)
    mask_out = compose(result, _out(size="500x300", mask_only=True))
    assert mask_out.shape == (300, 500) and mask_out.dtype == np.uint8


@pytest.mark.parametrize(("name", "value"), [
    ("size", "100"), ("size", "0x10"), ("size", "40000x10"), ("size", 12), ("scale", "0.5"),
    ("scale", "120%"), ("scale", "10px"), ("position", "left"), ("position", "120%,0"),
    ("position", "10px,5px"), ("position", "1,2,3"), ("crop_margin", "1 2 3"),
    ("crop_margin", "-5px"), ("crop_margin", "5em"), ("crop_margin", "101%"),
    ("crop_margin", 2.5), ("crop_margin", True),
])
def test_bad_layout_values_are_invalid_options_naming_them(name: str, value: object) -> None:
    with pytest.raises(InvalidOption) as info:
        Config.build(**{name: value})
    assert name.split("_")[0] in str(info.value)


def test_canvas_over_max_pixels_is_refused() -> None:
    with pytest.raises(InvalidOption, match="size"):
        Config.build(size="2000x2000", max_pixels=1_000_000)


def test_a_background_image_covers_the_new_canvas() -> None:
    alpha, fg = _block()
    backdrop = np.zeros((50, 100, 3), np.uint8)
    backdrop[:, :50] = (0, 200, 0)  # left half green, right half blue
    backdrop[:, 50:] = (0, 0, 200)
    result = Result(image=fg, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=fg,
                    meta=ImageMeta(300, 200), model="test")
    out = compose(result, _out(size="200x100", scale="50%", position="0,0"), backdrop)
    assert out.shape == (100, 200, 3)
    assert out[-1, 0].tolist() == [0, 200, 0] and out[-1, -1].tolist() == [0, 0, 200]
    np.testing.assert_array_equal(out[10, 10], (200, 40, 10))  # the subject, top left
