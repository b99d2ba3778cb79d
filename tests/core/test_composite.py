"""Composite: the cut-out's pixels, alpha rounding and blanking under alpha 0."""

from __future__ import annotations

import numpy as np

from alphacut.core.composite import alpha_to_u8, cutout


def _reference_cutout(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    rgba = np.dstack([fg, a8])
    rgba[a8 == 0] = 0
    return rgba


def test_alpha_rounds_to_nearest() -> None:
    alpha = np.array([[0.0, 0.4 / 255, 0.6 / 255, 0.5, 100.4 / 255, 1.0]], np.float32)
    np.testing.assert_array_equal(alpha_to_u8(alpha), [[0, 0, 1, 128, 100, 255]])
    assert alpha_to_u8(alpha).dtype == np.uint8


def test_cutout_matches_reference_and_blanks_invisible_pixels() -> None:
    rng = np.random.default_rng(0)
    fg = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    alpha = rng.random((37, 53), dtype=np.float32)
    alpha[alpha < 0.4] = 0.0
    alpha[:3] = 0.001  # below half a level: alpha 0, colour blanked
    rgba = cutout(fg, alpha)
    assert rgba.shape == (37, 53, 4) and rgba.dtype == np.uint8 and rgba.flags.c_contiguous
    np.testing.assert_array_equal(rgba, _reference_cutout(fg, alpha))
    assert not rgba[:3].any()
    visible = rgba[..., 3] > 0
    np.testing.assert_array_equal(rgba[..., :3][visible], fg[visible])


def test_cutout_of_non_contiguous_foreground_and_empty_image() -> None:
    fg = np.full((10, 20, 3), 200, np.uint8)[:, ::2]
    rgba = cutout(fg, np.ones((10, 10), np.float32))
    assert (rgba == (200, 200, 200, 255)).all()
    assert cutout(np.zeros((0, 4, 3), np.uint8), np.zeros((0, 4), np.float32)).shape == (0, 4, 4)
