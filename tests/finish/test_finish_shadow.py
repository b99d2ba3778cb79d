"""--shadow drop|contact: darkens the background where the shadow falls and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from alphacut.config import Config
from alphacut.engine.stages import compose
from alphacut.errors import InvalidOption
from alphacut.types import ImageMeta, Result, SoftMask

H, W = 240, 320
BOX = (60, 160, 100, 200)  # y0, y1, x0, x1 of the subject
RED = (200, 30, 30)


def _result() -> Result:
    alpha = np.zeros((H, W), np.float32)
    y0, y1, x0, x1 = BOX
    alpha[y0:y1, x0:x1] = 1.0
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[...] = RED
    return Result(image=rgb, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=rgb,
                  meta=ImageMeta(width=W, height=H), model="test")


def _pixels(**options: object) -> np.ndarray:
    return compose(_result(), Config.build(**options).output)


def _distance_to_box(dx: int = 0, dy: int = 0) -> np.ndarray:
    """Chebyshev-free Euclidean distance of each pixel to the subject's box moved by dx, dy."""
    y0, y1, x0, x1 = BOX
    yy, xx = np.mgrid[:H, :W]
    ddy = np.maximum(np.maximum(y0 + dy - yy, yy - (y1 - 1 + dy)), 0)
    ddx = np.maximum(np.maximum(x0 + dx - xx, xx - (x1 - 1 + dx)), 0)
    return np.hypot(ddy, ddx)


def test_drop_shadow_darkens_the_offset_silhouette_only() -> None:
    out = _pixels(bg="white", shadow="drop", shadow_offset="20,30", shadow_blur=8,
                  shadow_opacity=0.6).astype(int)
    y0, y1, x0, x1 = BOX
    assert np.all(out[y0:y1, x0:x1] == RED)  # the subject is untouched
    cast = out[y1 + 4:y1 + 17, x0 + 33:x1 + 7]  # under it, inside the moved silhouette
    assert np.all(np.abs(cast - round(255 * 0.4)) <= 3)
    far = _distance_to_box(20, 30) > 3 * 8  # beyond 3 sigma... of blur 8 (sigma 4): clean
    outside = _distance_to_box() > 0
    assert np.all(out[far & outside] == 255)
    assert np.all(out[:y0 - 1, :] == 255)  # above the subject: the shadow falls down-right


def test_drop_shadow_on_transparency_is_semi_transparent_black() -> None:
    out = _pixels(shadow="drop", shadow_offset="20,30", shadow_blur=8, shadow_opacity=0.6)
    y0, y1, x0, x1 = BOX
    assert out.shape == (H, W, 4)
    cast = out[y1 + 4:y1 + 17, x0 + 33:x1 + 7]
    assert np.all(np.abs(cast[..., 3].astype(int) - 153) <= 2) and np.all(cast[..., :3] == 0)
    assert np.all(out[y0:y1, x0:x1] == (*RED, 255))
    assert np.all(out[(_distance_to_box(20, 30) > 24) & (_distance_to_box() > 0)][..., 3] == 0)


def test_contact_shadow_sits_at_the_base() -> None:
    out = _pixels(bg="white", shadow="contact", shadow_blur=6, shadow_opacity=0.8).astype(int)
    _y0, y1, x0, x1 = BOX
    below = out[y1:y1 + 4, x0 + 20:x1 - 20]
    assert below.max() < 230  # dark just under the base
    assert np.all(out[:y1 - 20][_distance_to_box()[:y1 - 20] > 0] == 255)  # not up the sides
    assert np.all(out[y1 + 20:] == 255)  # and not far below


def test_default_sizes_follow_the_subject_and_bg_colour_translucent() -> None:
    out = _pixels(bg="white", shadow="drop")  # offset 2%/3% of 100 px, blur 3 px
    _y0, y1, x0, _x1 = BOX
    assert out[y1 + 1, x0 + 50].max() < 255 and np.all(out[y1 + 15:] == 255)
    rgba = _pixels(bg="255,255,255,128", shadow="drop")
    assert rgba.shape == (H, W, 4) and rgba[0, 0, 3] == 128
    assert rgba[y1 + 1, x0 + 50, 3] > 128  # the shadow adds cover over a translucent colour


def test_no_shadow_leaves_output_identical_and_mask_ignores_it() -> None:
    assert np.array_equal(_pixels(bg="white"), _pixels(bg="white", shadow="none"))
    assert np.array_equal(_pixels(mask_only=True), _pixels(mask_only=True, shadow="drop"))


@pytest.mark.parametrize("bad", ["12", "a,b", "1,2,3", "nan,1", "1e9,0"])
def test_bad_offsets_are_refused(bad: str) -> None:
    with pytest.raises(InvalidOption, match="shadow_offset"):
        Config.build(shadow="drop", shadow_offset=bad)
    with pytest.raises(InvalidOption):
        Config.build(shadow="under")


def test_shadow_over_a_background_photo(u2netp_remover, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from alphacut.api import save
    from helpers import PETS

    result = u2netp_remover.remove(PETS[2])
    bg = tmp_path / "bg.png"
    Image.fromarray(np.full((64, 64, 3), 240, np.uint8)).save(bg)
    plain = np.asarray(Image.open(save(result, tmp_path / "a.png", bg=str(bg)))).astype(int)
    shaded = np.asarray(Image.open(save(result, tmp_path / "b.png", bg=str(bg),
                                        shadow="drop"))).astype(int)
    assert np.all(shaded <= plain + 1)  # it only darkens
    assert (plain - shaded).max() > 40
    solid = result.alpha >= 0.999
    assert np.abs(shaded[solid] - plain[solid]).max() <= 1  # not over the subject


@pytest.mark.parametrize("kind", ["drop", "contact"])
def test_a_crop_leaves_room_for_the_shadow(kind: str) -> None:
    out = _pixels(crop=True, crop_margin=0, shadow=kind, shadow_offset="20,30", shadow_blur=8,
                  shadow_opacity=0.6)
    y0, y1, x0, x1 = BOX
    alpha = out[..., 3].astype(int)
    assert alpha.shape[0] > y1 - y0 and alpha.shape[1] > x1 - x0  # grown past the subject
    assert int(alpha.max()) == 255
    edges = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    assert edges.max() <= 2  # the shadow fades out inside the picture, not at a cut edge
    plain = _pixels(crop=True, crop_margin=0)
    assert plain.shape[:2] == (y1 - y0, x1 - x0)  # no shadow: the crop is the subject's box
