"""Matting in the uncertain band: what a user sees at hair and soft edges."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphacut.core.refine.matting import MattingParams, band_trimap, refine_band

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
from evaldata_locator import evaldata_set


def _two_colour_scene(size: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A textured red subject with a soft, wavy edge over a blue-green background.

    Returns (rgb ``uint8 (size, size, 3)``, true alpha ``float32 (size, size)``).
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    edge = size * 0.5 + 10.0 * np.sin(yy / 9.0)
    alpha = np.clip((edge - xx) / 6.0 + 0.5, 0.0, 1.0)  # a 6 px wide soft ramp
    rng = np.random.default_rng(1)
    fg = np.stack([0.85 + 0.1 * np.sin(xx / 7.0), 0.15 + 0.05 * np.cos(yy / 5.0),
                   np.full_like(xx, 0.1)], axis=-1)
    bg = np.stack([np.full_like(xx, 0.1), 0.55 + 0.1 * np.sin((xx + yy) / 11.0),
                   np.full_like(xx, 0.8)], axis=-1)
    image = alpha[..., None] * fg + (1.0 - alpha[..., None]) * bg
    image += rng.normal(0.0, 0.004, image.shape)
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8), alpha.astype(np.float32)


def _model_like(alpha: np.ndarray, side: int) -> np.ndarray:
    """What a low-resolution model gives: the truth at ``side`` px, blurred, upsampled."""
    h, w = alpha.shape
    small = cv2.resize(alpha, (side, side), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 1.0)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def test_matting_recovers_a_known_soft_edge() -> None:
    rgb, truth = _two_colour_scene()
    soft = _model_like(truth, 40)
    alpha = refine_band(rgb, soft)
    edge = (truth > 0.01) & (truth < 0.99)
    err_soft = np.abs(soft - truth)[edge].mean()
    err_matte = np.abs(alpha - truth)[edge].mean()
    assert alpha.shape == truth.shape and alpha.dtype == np.float32
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert err_matte < 0.05, err_matte
    assert err_matte < 0.5 * err_soft, (err_matte, err_soft)


def test_sure_regions_become_exactly_opaque_or_clear() -> None:
    rgb, truth = _two_colour_scene()
    alpha = refine_band(rgb, _model_like(truth, 40))
    assert np.all(alpha[:, :20] == 1.0)
    assert np.all(alpha[:, -20:] == 0.0)


def test_band_stays_near_the_outline() -> None:
    """A grey, half-believed interior far from the outline keeps the model's value."""
    soft = np.zeros((200, 200), np.float32)
    soft[40:160, 40:160] = 0.7  # unsure but clearly inside
    soft[20:180, 20:40] = 1.0
    unknown, known = band_trimap(soft, lo=0.05, hi=0.95, width=2, reach=6)
    assert not unknown[100, 100]
    assert known[100, 100] == pytest.approx(0.7)
    assert unknown[100, 160]  # at the outline


def test_large_images_are_solved_at_bounded_resolution() -> None:
    rgb, truth = _two_colour_scene(160)
    big_rgb = cv2.resize(rgb, (1200, 1200), interpolation=cv2.INTER_LINEAR)
    big_truth = cv2.resize(truth, (1200, 1200), interpolation=cv2.INTER_LINEAR)
    soft = _model_like(big_truth, 80)
    alpha = refine_band(big_rgb, soft, MattingParams(max_side=300))
    edge = (big_truth > 0.01) & (big_truth < 0.99)
    assert alpha.shape == big_truth.shape
    assert np.abs(alpha - big_truth)[edge].mean() < np.abs(soft - big_truth)[edge].mean()


def test_matting_lowers_sad_in_the_band_on_real_hair() -> None:
    """alphamatting.com GT04 (a plush bear with fur): a model-like soft mask (the truth seen
    at 320 px, as u2net sees it) is matted closer to the human matte inside the trimap band."""
    from alphacut.eval.datasets import discover, read_rgb

    dataset = discover(evaldata_set("alphamatting_train_lowres"))
    sample = dataset.sample("GT04")
    rgb = read_rgb(sample.image_path)
    truth = sample.gt.astype(np.float32) / 255.0
    soft = _model_like(truth, 320)
    band = sample.trimap == 128
    alpha = refine_band(rgb, soft)
    sad_soft = np.abs(soft - truth)[band].sum() / 1000.0
    sad_matte = np.abs(alpha - truth)[band].sum() / 1000.0
    assert sad_matte < 0.85 * sad_soft, (sad_matte, sad_soft)
