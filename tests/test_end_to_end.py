"""End to end with real u2netp weights on real photos (Oxford-IIIT Pet fixtures)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import alphacut
from helpers import PETS, SAMPLE, iou_outside_band, truth_for

pytestmark = pytest.mark.model


@pytest.mark.parametrize("image", PETS, ids=[p.stem for p in PETS])
def test_pet_cutout_matches_ground_truth(u2netp_remover, image) -> None:
    result = u2netp_remover.remove(image)
    truth = truth_for(image)
    assert result.alpha.shape == truth.shape
    assert result.alpha.dtype == np.float32
    assert result.alpha.min() >= 0.0 and result.alpha.max() <= 1.0
    assert iou_outside_band(result.alpha, truth) >= 0.80


def test_result_is_full_resolution_with_stage_timings(u2netp_remover) -> None:
    result = u2netp_remover.remove(SAMPLE)
    width, height = Image.open(SAMPLE).size
    assert result.rgba.shape == (height, width, 4)
    assert result.soft.shape == (height, width)
    assert list(result.timings)[:5] == ["decode", "preprocess", "infer", "mask", "refine"]
    assert all(t >= 0 for t in result.timings.values())


def test_library_accepts_path_bytes_pil_and_array(u2netp_remover) -> None:
    data = SAMPLE.read_bytes()
    pil = Image.open(io.BytesIO(data))
    array = np.asarray(pil.convert("RGB"))
    alphas = [u2netp_remover.remove(src).alpha for src in (SAMPLE, data, pil, array)]
    for alpha in alphas[1:]:
        assert np.abs(alpha - alphas[0]).max() < 1e-4


def test_module_level_remove_reuses_the_session() -> None:
    first = alphacut.remove(SAMPLE, model="u2netp", preset="fast")
    second = alphacut.remove(SAMPLE, model="u2netp", preset="fast")
    assert np.array_equal(first.alpha, second.alpha)
    from alphacut.runtime.session import loaded_models

    assert "u2netp" in loaded_models()


def test_empty_wall_gives_near_empty_mask(u2netp_remover) -> None:
    # A plain painted wall: a smooth light gradient with fine grain, no subject.
    rng = np.random.default_rng(0)
    ramp = np.linspace(190, 215, 900, dtype=np.float32)[None, :, None]
    wall = np.clip(ramp + rng.normal(0, 2.0, (600, 900, 3)), 0, 255).astype(np.uint8)
    result = u2netp_remover.remove(wall)
    assert float(result.alpha.mean()) < 0.05


def test_input_alpha_limits_the_result(u2netp_remover) -> None:
    rgb = np.asarray(Image.open(PETS[0]).convert("RGB"))
    rgba = np.dstack([rgb, np.zeros(rgb.shape[:2], np.uint8)])
    rgba[:, : rgb.shape[1] // 2, 3] = 255  # right half transparent in the input
    result = u2netp_remover.remove(rgba)
    assert result.alpha[:, rgb.shape[1] // 2 + 1 :].max() == 0.0


def test_cutout_over_colour_and_crop(u2netp_remover) -> None:
    result = u2netp_remover.remove(PETS[0])
    png = u2netp_remover.render(result)
    assert Image.open(io.BytesIO(png)).mode == "RGBA"
    jpeg = u2netp_remover.render(result, bg="white", format="jpeg")
    over = Image.open(io.BytesIO(jpeg))
    assert over.format == "JPEG" and over.mode == "RGB"
    background = np.asarray(over)[result.alpha < 0.01]
    assert background.mean() > 240  # the old background became white
    cropped = Image.open(io.BytesIO(u2netp_remover.render(result, crop=True, crop_margin=0)))
    ys, xs = np.nonzero(result.alpha > 0.05)
    assert cropped.size == (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    mask = Image.open(io.BytesIO(u2netp_remover.render(result, mask_only=True)))
    assert mask.mode == "L" and mask.size == over.size
