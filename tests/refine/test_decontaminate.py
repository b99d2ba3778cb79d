"""Colour decontamination: the old background must not tint the edge on a new background."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from alphacut.core.refine.foreground import estimate_foreground

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
from evaldata_locator import evaldata_set

GREEN = np.array([40.0, 200.0, 60.0]) / 255.0
MAGENTA = np.array([1.0, 0.0, 1.0])


def _real_hair() -> tuple[np.ndarray, np.ndarray]:
    """A real matte and real foreground colours: alphamatting.com GT04 (fur), both truths.

    Returns (foreground ``float64 (H, W, 3)`` in [0, 1], alpha ``float32 (H, W)``).
    """
    from alphacut.eval.datasets import discover, read_rgb

    dataset = discover(evaldata_set("alphamatting_train_lowres"))
    sample = dataset.sample("GT04")
    return read_rgb(sample.image_path) / 255.0, sample.gt.astype(np.float32) / 255.0


def _over(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    return alpha[..., None] * fg + (1.0 - alpha[..., None]) * bg


def test_green_screen_does_not_bleed_into_a_new_background() -> None:
    """The real fur matte, shot over green: put on magenta, the cut-out's edge is closer to
    the true composite with decontamination than with the photo's own colours."""
    fg, alpha = _real_hair()
    photo = np.clip(_over(fg, alpha, GREEN) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    edge = (alpha > 0.05) & (alpha < 0.95)
    truth = _over(fg, alpha, MAGENTA)
    plain = _over(photo / 255.0, alpha, MAGENTA)
    clean = _over(estimate_foreground(photo, alpha) / 255.0, alpha, MAGENTA)
    err_plain = np.abs(plain - truth)[edge].mean()
    err_clean = np.abs(clean - truth)[edge].mean()
    assert err_clean < 0.6 * err_plain, (err_clean, err_plain)
    # the green cast itself: mean green excess at the edge shrinks
    green_plain = (plain[..., 1] - truth[..., 1])[edge].mean()
    green_clean = (clean[..., 1] - truth[..., 1])[edge].mean()
    assert green_clean < 0.5 * green_plain, (green_clean, green_plain)


def test_opaque_and_clear_pixels_keep_their_colour() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    alpha = np.zeros((64, 64), np.float32)
    alpha[:, :30] = 1.0
    alpha[:, 30:34] = np.linspace(0.8, 0.2, 4, dtype=np.float32)
    out = estimate_foreground(rgb, alpha)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert np.array_equal(out[:, :30], rgb[:, :30])
    assert np.array_equal(out[:, 34:], rgb[:, 34:])


@pytest.mark.parametrize(("up", "factor"), [(5.2, 4), (3.0, 2), (1.4, 2)])
def test_a_large_photo_fitted_at_reduced_size_cleans_its_edge_like_the_full_size_fit(
        monkeypatch, up: float, factor: int) -> None:  # type: ignore[no-untyped-def]
    """The real fur matte over green, ``up`` x up: 4160 px (a 12 MP photo's size, fitted at
    quarter size), 2400 px and 1120 px (a 1 MP photo, both at half size). The reduced fit
    still removes the green cast, and its edge on magenta stays within about a level of
    what the full-size fit gives."""
    import cv2

    from alphacut.core.refine import foreground

    fg, alpha = _real_hair()
    h, w = alpha.shape
    size = (round(up * w), round(up * h))
    fg = cv2.resize(fg, size, interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)
    alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR).clip(0.0, 1.0)
    assert foreground.fit_factor(alpha.shape) == factor
    photo = np.clip(_over(fg, alpha, GREEN) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    edge = (alpha > 0.05) & (alpha < 0.95)
    truth = _over(fg, alpha, MAGENTA)
    reduced = _over(estimate_foreground(photo, alpha) / 255.0, alpha, MAGENTA)
    monkeypatch.setattr(foreground, "fit_factor", lambda shape, radius: 1)  # the full-size fit
    full = _over(estimate_foreground(photo, alpha) / 255.0, alpha, MAGENTA)
    plain = _over(photo / 255.0, alpha, MAGENTA)
    err = {name: np.abs(image - truth)[edge].mean()
           for name, image in (("reduced", reduced), ("full", full), ("plain", plain))}
    assert err["reduced"] < 0.7 * err["plain"], err  # the full fit: 0.61 (1.4x) to 0.68 (5.2x)
    assert abs(err["reduced"] - err["full"]) < 0.05 * err["full"], err
    assert np.abs(reduced - full)[edge].mean() < 1.5 / 255.0
