"""Round 2 of the refine speed work (issue 14): the stencil's per-window statistics,
the solver's warm start and step count, and the thread cap, each against the plain way on a
real photo (alphamatting GT04, fur)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from alphacut.core.refine import laplacian, matting, tiles


def test_window_moments_equal_each_windows_own_mean_and_covariance(
        fur: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, _ = fur
    image = rgb[200:240, 300:340].astype(np.float32) / 255.0
    centres = [(1, 1), (7, 30), (20, 20), (38, 38)]
    colours = np.stack([np.stack([image[cy + dy, cx + dx] for cy, cx in centres], axis=1)
                        for dy, dx in laplacian.WINDOW])  # (9, 3, M)
    x, cov = laplacian.window_moments(colours, 1e-5)
    for m, (cy, cx) in enumerate(centres):
        pixels = image[cy - 1:cy + 2, cx - 1:cx + 2].reshape(9, 3).astype(np.float64)
        mean = pixels.mean(axis=0)
        full = (pixels - mean).T @ (pixels - mean) / 9.0 + 1e-5 / 9.0 * np.eye(3)
        assert np.allclose(x[:, :, m], pixels - mean, atol=1e-7)
        upper = [full[a, b] for a, b in laplacian.PAIRS]
        assert np.allclose(cov[:, m], upper, rtol=1e-5, atol=1e-11), (cy, cx)
    assert np.abs(x).max() > 1e-3  # real texture, not a flat patch


def _band_system(rgb: np.ndarray, soft: np.ndarray):  # type: ignore[no-untyped-def]
    unknown, known = matting.band_trimap(soft, lo=0.05, hi=0.95, width=1, reach=12)
    image = rgb.astype(np.float32) / 255.0
    stencil = laplacian.band_stencil(image, unknown, 1e-5)
    system, rhs, diagonal = laplacian.band_system(stencil, unknown, known, soft, 1e-2)
    return system, rhs, diagonal, soft[unknown].astype(np.float32)


def test_cg_from_the_answer_stops_at_once_and_from_the_mask_converges(
        fur: tuple[np.ndarray, np.ndarray]) -> None:
    system, rhs, diagonal, start = _band_system(*fur)
    assert rhs.size > 20000  # a real band
    x, steps = laplacian.pcg(system, rhs, start.copy(), 1.0 / diagonal, 300, 1e-6)
    assert 10 < steps < 300
    residual = np.linalg.norm(system @ x - rhs) / np.linalg.norm(rhs)
    assert residual < 1e-5  # float32: the true residual trails the recursive one a little
    again, steps_again = laplacian.pcg(system, rhs, x.copy(), 1.0 / diagonal, 300, 2e-5)
    assert steps_again == 1
    assert np.abs(again - x).max() < 1e-5


def test_cg_started_on_the_exact_answer_returns_it_without_a_step() -> None:
    """A band with no colour windows (a 1 px strip: every window would sit on the border) is
    just the pull towards the prior, ``lam I x = lam prior``; started on the prior, the
    residual and the search direction are 0 (this once divided 0 by 0)."""
    from alphacut.core.refine.sparse import CsrMatrix

    prior = np.linspace(0.1, 0.9, 7, dtype=np.float32)
    system = CsrMatrix(np.arange(8, dtype=np.int32), np.arange(7, dtype=np.int32),
                       np.full(7, 1e-2, np.float32), 7)
    rhs = (1e-2 * prior).astype(np.float32)
    x, steps = laplacian.pcg(system, rhs, prior.copy(), np.full(7, 100.0, np.float32), 100,
                             1e-3)
    assert steps == 0 and np.array_equal(x, prior)


def test_refine_band_is_the_same_on_one_thread_and_from_a_warm_start(
        fur: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, soft = fur
    reference = matting.refine_band(rgb, soft)
    with tiles.limited_threads(1):
        assert tiles.refine_threads() == 1
        single = matting.refine_band(rgb, soft)
    assert np.abs(single - reference).max() < 1e-4
    params = matting.MattingParams(tol=1e-6, iters=400)
    exact = matting.refine_band(rgb, soft, params)
    warm = matting.refine_band(rgb, soft, params, initial=reference)
    assert np.abs(warm - exact).max() < 2e-3
    assert np.abs(reference - soft).max() > 0.1  # the solve did move the matte
    wrong_size = matting.refine_band(rgb, soft, initial=np.zeros((7, 7), np.float32))
    np.testing.assert_array_equal(wrong_size, reference)



def _plain_trimap(soft: np.ndarray, lo: float, hi: float, width: int, reach: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """band_trimap the plain way: full-frame distance maps, nested where()."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    fg = cv2.erode((soft >= hi).astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE)
    bg = cv2.erode((soft <= lo).astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE)
    inside = (soft >= 0.5).astype(np.uint8)
    to_outside = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_5)
    to_inside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_5)
    near = np.where(inside > 0, to_outside <= reach, to_inside <= reach)
    known = np.where(fg > 0, 1.0, np.where(bg > 0, 0.0, soft)).astype(np.float32)
    return near & (fg == 0) & (bg == 0), known


@pytest.mark.parametrize("reach", [3, 12, 40])
def test_band_trimap_on_the_unsure_box_equals_the_full_frame_way(
        fur: tuple[np.ndarray, np.ndarray], reach: int) -> None:
    _, soft = fur
    w = soft.shape[1]
    edge = soft.copy()
    edge[:, : w // 3] = np.linspace(0.0, 1.0, w // 3, dtype=np.float32)  # grey at the border
    sure = np.zeros_like(soft)  # no unsure pixel at all: no box
    for mask in (soft, edge, sure):
        unknown, known = matting.band_trimap(mask, lo=0.05, hi=0.95, width=1, reach=reach)
        plain_unknown, plain_known = _plain_trimap(mask, 0.05, 0.95, 1, reach)
        np.testing.assert_array_equal(unknown, plain_unknown)
        np.testing.assert_array_equal(known, plain_known)
    assert matting.band_trimap(soft, lo=0.05, hi=0.95, width=1, reach=reach)[0].sum() > 100
    assert not matting.band_trimap(sure, lo=0.05, hi=0.95, width=1, reach=reach)[0].any()
