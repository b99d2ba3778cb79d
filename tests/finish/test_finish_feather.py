"""--feather: a soft edge on the alpha only, interior kept opaque."""

from __future__ import annotations

import numpy as np
import pytest

from alphacut.core.finish.feather import feather, signed_distance
from helpers import PETS, truth_for


def _disc(size: int = 201, radius: float = 60.0) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (np.hypot(yy - size // 2, xx - size // 2) <= radius).astype(np.float32)


def _band(alpha: np.ndarray) -> int:
    a8 = np.round(alpha * 255)
    return int(np.count_nonzero((a8 > 0) & (a8 < 255)))


@pytest.mark.parametrize("px", [4.0, 12.0, 30.0])
def test_feather_keeps_interior_widens_band_never_adds(px: float) -> None:
    alpha = _disc()
    out = feather(alpha, px)
    depth = signed_distance(alpha >= 0.5)
    assert out.dtype == np.float32 and out.shape == alpha.shape
    assert np.all(out[depth >= px] == 1.0)  # px or deeper: still opaque
    assert np.all(out <= alpha)  # only softens
    assert _band(out) > 0.9 * np.pi * (60**2 - (61 - px) ** 2)  # a ring px wide
    assert np.all(out[depth < 0] == 0)


def test_feather_widens_with_px_and_zero_is_identity() -> None:
    alpha = _disc()
    assert feather(alpha, 0.0) is alpha
    assert _band(feather(alpha, 4.0)) < _band(feather(alpha, 16.0))


def test_feather_on_a_real_mask_softens_only_near_its_edge() -> None:
    alpha = (truth_for(PETS[0]) > 128).astype(np.float32)
    out = feather(alpha, 10.0)
    depth = signed_distance(alpha >= 0.5)
    assert np.array_equal(out[depth >= 10], alpha[depth >= 10])
    soft = (out > 0) & (out < 1)
    assert _band(alpha) == 0 and soft.sum() > 0.9 * np.count_nonzero((depth > 0) & (depth < 10))
    assert np.all((depth[soft] > 0) & (depth[soft] < 10))


def test_feather_through_save_softens_the_png(tmp_path, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from alphacut.api import save

    result = u2netp_remover.remove(PETS[1])
    plain = np.asarray(Image.open(save(result, tmp_path / "a.png")))[..., 3] / 255.0
    soft = np.asarray(Image.open(save(result, tmp_path / "b.png", feather=12)))[..., 3] / 255.0
    depth = signed_distance(result.alpha >= 0.5)
    rim = (depth > 0) & (depth <= 6)  # just inside the edge: faded
    assert soft[rim].mean() < plain[rim].mean() - 0.2
    core = depth >= 12  # px deep or more: untouched
    assert np.array_equal(soft[core], plain[core])
    assert np.all(soft <= plain)
