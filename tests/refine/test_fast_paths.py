"""The refine step's fast paths (tiles, band-only Laplacian rows) equal plain full-frame
references on a real photo: speed must not change what the user gets."""

from __future__ import annotations

import cv2
import numpy as np

from alphacut.core.mask import guided_coefficients, to_gray
from alphacut.core.refine import foreground, laplacian, matting
from alphacut.core.refine.tiles import AxisTaps, resize_exact, resize_window


def test_window_resize_equals_opencv_resize() -> None:
    rng = np.random.default_rng(3)
    for h, w, big_h, big_w in [(683, 1024, 2830, 4240), (13, 17, 100, 77), (40, 40, 40, 40)]:
        small = rng.random((2, h, w), dtype=np.float32) * 255
        full = cv2.resize(small[1], (big_w, big_h), interpolation=cv2.INTER_LINEAR)
        rows, cols = slice(big_h // 3, big_h - 1), slice(0, big_w // 2 + 1)
        part = resize_window(small, (big_h, big_w), rows, cols)[1]
        np.testing.assert_allclose(part, full[rows, cols], rtol=0, atol=1e-4)


def test_exact_upscale_equals_the_window_resize() -> None:
    """An integer upscale by cv2.resize of a crop gives the taps' values, also past the
    whole blocks (a 2830-row frame on a 707-row grid of 4-pixel blocks)."""
    rng = np.random.default_rng(5)
    small = rng.random((2, 707, 1060), dtype=np.float32)
    taps = AxisTaps(707, 2830, 0.25), AxisTaps(1060, 4240, 0.25)
    for rows, cols in [(slice(0, 256), slice(0, 256)), (slice(1000, 1256), slice(777, 1033)),
                       (slice(2560, 2830), slice(3840, 4240))]:
        exact = resize_exact(small, 4, rows, cols)
        gathered = resize_window(small, (2830, 4240), rows, cols, taps=taps)
        np.testing.assert_allclose(exact, gathered, rtol=0, atol=2e-6)


def test_tiled_upsampling_equals_the_full_frame_one(fur: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, soft = fur
    h, w = (s // 3 for s in soft.shape)
    matte = cv2.resize(soft, (w, h), interpolation=cv2.INTER_AREA)
    matte[matte > 0.9], matte[matte < 0.1] = 1.0, 0.0  # sure regions: the constant tiles
    gray = to_gray(rgb)  # the fit's guide: the grey of the small photo
    a, b = guided_coefficients(to_gray(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)),
                               matte, 2, 1e-4)
    size = (rgb.shape[1], rgb.shape[0])
    reference = np.clip(cv2.resize(a, size) * gray + cv2.resize(b, size), 0.0, 1.0)
    fast = matting.upsample_matte(matte, rgb)
    assert fast.dtype == np.float32 and fast.shape == reference.shape
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-5)
    assert np.all(fast[reference == 0.0] == 0.0)  # the constant tiles are exactly clear


def _reference_foreground(rgb: np.ndarray, alpha: np.ndarray, radii: tuple[int, int]
                          ) -> np.ndarray:
    """Blur-fusion over the whole frame, one channel at a time, no tiles."""
    def blur(x: np.ndarray, r: int) -> np.ndarray:
        return cv2.blur(x, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)

    y0, y1, x0, x1 = foreground.band_box(alpha, radii[0])
    step = foreground.coarse_factor(radii[0])
    y0, y1 = foreground._whole_steps(y0, y1, alpha.shape[0], step)
    x0, x1 = foreground._whole_steps(x0, x1, alpha.shape[1], step)
    a = alpha[y0:y1, x0:x1]
    h, w = a.shape
    small = (round(w / step), round(h / step))
    wide = round(radii[0] / step)
    a_small = cv2.resize(a, small, interpolation=cv2.INTER_AREA)
    out = rgb.copy()
    soft = (a > foreground.SOFT_LOW) & (a < foreground.SOFT_HIGH)
    for c in range(3):
        image = rgb[y0:y1, x0:x1, c].astype(np.float32)
        p = cv2.resize(rgb[y0:y1, x0:x1, c], small, interpolation=cv2.INTER_AREA)
        blurred = blur(a_small, wide)
        fg = blur(p * a_small, wide) / (blurred + 1e-5)
        bg = blur(p - p * a_small, wide) / (1.0 - blurred + 1e-5)
        fg, bg = cv2.resize(fg, (w, h)), cv2.resize(bg, (w, h))
        for r in radii[1:]:
            new_fg = np.clip(fg + a * (image - a * fg - (1 - a) * bg), 0, 255)
            blurred = blur(a, r)
            fg = blur(new_fg * a, r) / (blurred + 1e-5)
            bg = blur(bg * (1 - a), r) / (1.0 - blurred + 1e-5)
        fg = np.clip(fg + a * (image - a * fg - (1 - a) * bg), 0, 255)
        out[y0:y1, x0:x1, c][soft] = (fg[soft] + 0.5).astype(np.uint8)
    return out


def test_tiled_decontamination_equals_the_full_frame_one(fur: tuple[np.ndarray, np.ndarray]
                                                         ) -> None:
    rgb, soft = fur
    alpha = matting.refine_band(rgb, soft)
    fast = foreground.estimate_foreground(rgb, alpha)
    reference = _reference_foreground(rgb, alpha, (90, 6))
    diff = np.abs(fast.astype(np.int16) - reference.astype(np.int16))
    assert diff.max() <= 1, diff.max()
    assert (diff > 0).mean() < 1e-3
    assert not np.array_equal(fast, rgb)  # it did clean something


def _reference_laplacian(image: np.ndarray, centres: np.ndarray, eps: float) -> np.ndarray:
    """Dense closed-form matting Laplacian ``(h * w, h * w)`` of the windows at ``centres``,
    summed window by window in float64 (small images only)."""
    h, w, _ = image.shape
    lap = np.zeros((h * w, h * w))
    for cy, cx in zip(*np.nonzero(centres), strict=True):
        ys, xs = np.mgrid[cy - 1:cy + 2, cx - 1:cx + 2]
        idx = (ys * w + xs).ravel()
        colours = image[ys, xs].reshape(9, 3).astype(np.float64)
        x = colours - colours.mean(axis=0)
        inv = np.linalg.inv(x.T @ x / 9.0 + eps / 9.0 * np.eye(3))
        lap[np.ix_(idx, idx)] += np.eye(9) - (1.0 + x @ inv @ x.T) / 9.0
    return lap


def test_band_rows_equal_the_full_laplacian(fur: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, soft = fur
    y, x = np.argwhere((soft > 0.3) & (soft < 0.7))[0]  # a real patch of the edge
    crop = (slice(max(0, y - 14), y + 14), slice(max(0, x - 14), x + 14))
    image = rgb[crop].astype(np.float32) / 255.0
    unknown = (soft[crop] > 0.15) & (soft[crop] < 0.85)
    unknown[:1], unknown[-1:], unknown[:, :1], unknown[:, -1:] = False, False, False, False
    assert unknown.sum() > 50
    stencil = laplacian.band_stencil(image, unknown, 1e-5)
    centres = cv2.dilate(unknown.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    centres[0, :] = centres[-1, :] = centres[:, 0] = centres[:, -1] = False
    dense = _reference_laplacian(image, centres, 1e-5)
    h, w = unknown.shape
    scale = np.abs(dense).max()
    for row, p in enumerate(np.flatnonzero(unknown)):
        py, px = divmod(int(p), w)
        for k in range(25):
            qy, qx = py + k // 5 - 2, px + k % 5 - 2
            expected = dense[p, qy * w + qx] if 0 <= qy < h and 0 <= qx < w else 0.0
            assert abs(stencil[k, row] - expected) <= 1e-5 * scale, (row, k)


def test_the_mattes_soft_tiles_hold_every_soft_pixel(fur: tuple[np.ndarray, np.ndarray]
                                                     ) -> None:
    """The fur photo at 3x (solved at a working size): the tiles the upsampling reports hold
    every soft pixel of the matte, leave some tiles out, and the decontamination that looks
    at those tiles only gives the same colours as the one that scans the whole frame."""
    rgb, soft = fur
    size = (3 * rgb.shape[1], 3 * rgb.shape[0])
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    soft = cv2.resize(soft, size, interpolation=cv2.INTER_LINEAR)
    matte = matting.refine_band_matte(rgb, soft)
    assert matte.soft_tiles is not None
    tile, active = matte.soft_tiles.tile, matte.soft_tiles.active
    covered = np.kron(active, np.ones((tile, tile), np.bool_))[:soft.shape[0], :soft.shape[1]]
    band = foreground.soft_band(matte.alpha)
    assert band.any() and not band[~covered].any()
    assert 0 < active.sum() < active.size
    assert np.array_equal(foreground.soft_band(matte.alpha, matte.soft_tiles), band)
    hinted = foreground.estimate_foreground(rgb, matte.alpha, soft_tiles=matte.soft_tiles)
    assert np.array_equal(hinted, foreground.estimate_foreground(rgb, matte.alpha))
