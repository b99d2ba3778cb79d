"""match_colour: the subject's alpha-weighted mean Lab moves toward the new background's by
about strength x difference; nothing happens at 0 or without a background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alphacut.config import Config
from alphacut.core.finish.colour import background_stats, finish, to_lab, weighted_stats
from alphacut.engine.stages import compose
from alphacut.types import ImageMeta, Result, SoftMask

PETS = Path(__file__).resolve().parents[1] / "fixtures" / "pets"


def _pet(name: str) -> tuple[np.ndarray, np.ndarray]:
    photo = np.asarray(Image.open(PETS / f"{name}.jpg").convert("RGB"))
    mask = np.asarray(Image.open(PETS / f"{name}.mask.png").convert("L"))
    return photo, (mask == 255).astype(np.float32)


def _subject_mean(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return weighted_stats(to_lab(fg)[alpha > 0], alpha[alpha > 0])[0]


@pytest.mark.parametrize("strength", [0.25, 0.5, 1.0])
def test_mean_lab_moves_by_strength_times_the_difference_toward_an_image(
        strength: float) -> None:
    photo, alpha = _pet("shiba_inu_208")
    background, _ = _pet("Persian_140")
    target = background_stats(background, None)
    assert target is not None
    before = _subject_mean(photo, alpha)
    after = _subject_mean(finish(photo, alpha, strength, background, None), alpha)
    want = before + strength * (target[0] - before)
    assert np.abs(target[0] - before).max() > 5  # the two photos differ enough to tell
    np.testing.assert_allclose(after, want, atol=1.5 + 1.5 * strength)
    # and it moved toward, not away: the distance shrank by about (1 - strength)
    shrink = np.linalg.norm(target[0] - after) / np.linalg.norm(target[0] - before)
    assert shrink == pytest.approx(1 - strength, abs=0.08)


def test_spread_moves_toward_the_background_spread() -> None:
    photo, alpha = _pet("Maine_Coon_161")
    flat = np.full((50, 50, 3), 128, np.uint8)
    flat[::2] = 100  # a low-contrast background
    target = background_stats(flat, None)
    assert target is not None
    out = finish(photo, alpha, 1.0, flat, None)
    std_before = weighted_stats(to_lab(photo)[alpha > 0])[1]
    std_after = weighted_stats(to_lab(out)[alpha > 0])[1]
    assert (std_after < std_before).all()
    assert (std_after >= std_before / 2 - 1).all()  # the ratio is kept within 1/2..2


def test_over_a_colour_the_mean_moves_and_the_subject_keeps_some_contrast() -> None:
    photo, alpha = _pet("japanese_chin_131")
    color = (30, 90, 200, 255)
    before = _subject_mean(photo, alpha)
    out = finish(photo, alpha, 0.5, None, color)
    target = to_lab(np.array([[color[:3]]], np.uint8)).reshape(3)
    np.testing.assert_allclose(_subject_mean(out, alpha), before + 0.5 * (target - before),
                               atol=2.5)
    assert weighted_stats(to_lab(out)[alpha > 0])[1][0] > 5  # not flattened to one colour


def test_zero_strength_or_no_background_is_the_same_array() -> None:
    photo, alpha = _pet("shiba_inu_208")
    assert finish(photo, alpha, 0.0, photo, None) is photo
    assert finish(photo, alpha, 0.8, None, None) is photo


def test_compose_matches_before_compositing_and_leaves_the_background_alone() -> None:
    photo, alpha = _pet("shiba_inu_208")
    result = Result(image=photo, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=photo,
                    meta=ImageMeta(photo.shape[1], photo.shape[0]), model="test")
    plain = compose(result, Config.build(bg="#2040c0").output)
    matched = compose(result, Config.build(bg="#2040c0", match_colour=0.6).output)
    outside = alpha == 0
    np.testing.assert_array_equal(matched[outside], plain[outside])
    inside = alpha == 1
    blue = matched[inside][:, 2].astype(float).mean() - matched[inside][:, 0].mean()
    assert blue > plain[inside][:, 2].astype(float).mean() - plain[inside][:, 0].mean() + 10
    # a transparent cut-out has no background to match: documented no-op
    np.testing.assert_array_equal(compose(result, Config.build(match_colour=0.6).output),
                                  compose(result, Config.build().output))
