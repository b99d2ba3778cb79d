"""The compiled refine kernels (_kernels.c) against the numpy/OpenCV path they replace, on
real photos: the band's matrix bit for bit, the matte to a float32 rounding, the colours to
one level at a handful of pixels. Each test runs both paths in one process
(``ALPHACUT_KERNELS=0`` turns the kernels off)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import pytest

from alphacut.core.refine import foreground, kernels, laplacian, matting, sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import PETS

T = TypeVar("T")


@contextmanager
def kernels_set(on: bool) -> Iterator[None]:
    """Within the block the refine step uses (or not) the compiled kernels."""
    saved = os.environ.get("ALPHACUT_KERNELS")
    os.environ["ALPHACUT_KERNELS"] = "1" if on else "0"
    kernels.library.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("ALPHACUT_KERNELS", None)
        else:
            os.environ["ALPHACUT_KERNELS"] = saved
        kernels.library.cache_clear()


def both(fn: Callable[[], T]) -> tuple[T, T]:
    """``fn()`` on the numpy path, then with the kernels."""
    if not kernels.available():
        pytest.skip("the compiled kernels are not built in this install")
    with kernels_set(False):
        plain = fn()
    with kernels_set(True):
        fused = fn()
    return plain, fused


def pet(scale: float, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A bundled pet photo enlarged ``scale`` x (Lanczos) ``uint8 (H, W, 3)`` and a
    model-like soft mask ``float32 (H, W)``: its trimap mask seen at 320 px, blurred,
    brought back up bilinearly."""
    rgb = cv2.cvtColor(cv2.imread(str(PETS[index])), cv2.COLOR_BGR2RGB)
    mask = cv2.imread(str(PETS[index].with_suffix("").with_suffix(".mask.png")),
                      cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    big = cv2.resize(rgb, size, interpolation=cv2.INTER_LANCZOS4)
    small = cv2.GaussianBlur(cv2.resize(mask, (320, 320), interpolation=cv2.INTER_AREA),
                             (0, 0), 1.5)
    return big, cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)


def test_the_kernels_are_built_where_a_compiler_is() -> None:
    """setup.py builds them as an optional extension: a failed build must not go unseen
    on a machine that can build them (CI's)."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler here: the numpy path runs")
    if os.environ.get("ALPHACUT_KERNELS") == "0":
        pytest.skip("turned off by ALPHACUT_KERNELS=0")
    assert kernels.available()


def band_inputs(scale: float, index: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """The solve's working photo ``float32 (h, w, 3)``, band, known alpha and prior."""
    rgb, soft = pet(scale, index)
    unknown, known = matting.band_trimap(soft, lo=0.05, hi=0.95, width=1, reach=24)
    return rgb.astype(np.float32) / 255.0, unknown, known, soft


@pytest.mark.parametrize("index", [0, 1, 2])
def test_band_matrix_is_bit_identical(index: int) -> None:
    image, unknown, known, prior = band_inputs(1.5, index)
    plain, fused = both(lambda: laplacian.band_stencil(image, unknown, 1e-5))
    assert plain.shape[1] == unknown.sum() > 20000  # both threads' halves are exercised
    assert np.array_equal(plain, fused)
    (a0, rhs0, d0), (a1, rhs1, d1) = both(
        lambda: laplacian.band_system(plain, unknown, known, prior, 1e-2))
    assert np.array_equal(a0.indptr, a1.indptr) and np.array_equal(a0.indices, a1.indices)
    assert np.array_equal(a0.data, a1.data)
    assert np.array_equal(rhs0, rhs1) and np.array_equal(d0, d1)
    assert (rhs0 != 1e-2 * prior[unknown]).any()  # the rim's known neighbours count
    with kernels_set(True):  # the rows split in blocks: the same rows, the rim in order
        split = [kernels.band_rows(plain, unknown, known, 1e-2, threads) for threads in (1, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(*split, strict=True))
    rng = np.random.default_rng(7)
    x = rng.standard_normal(a0.n).astype(np.float32)
    assert np.array_equal(a0 @ x, a1 @ x)  # the same product, to the bit
    for threads in (2, 3):
        with sparse.SplitProduct(a1, threads) as product:
            assert np.array_equal(product(x, np.empty_like(x)), a0 @ x)
    (x0, steps0), (x1, steps1) = both(lambda: laplacian.pcg(
        *laplacian.band_system(plain, unknown, known, prior, 1e-2)[:2],
        prior[unknown].astype(np.float32), 1.0 / d0, 100, 1e-3))
    assert steps0 > 5 and abs(steps0 - steps1) <= 1  # float64 dots: a rounding apart
    assert np.abs(x0 - x1).max() < 1e-2 and np.abs(x0 - x1).mean() < 5e-5
    residual = np.linalg.norm(a1 @ x1 - rhs1) / np.linalg.norm(rhs1)
    assert residual < 1e-3  # converged as far as asked


def test_compiled_cg_gives_the_same_answer_on_any_number_of_threads() -> None:
    if not kernels.available():
        pytest.skip("the compiled kernels are not built in this install")
    image, unknown, known, prior = band_inputs(1.5, 2)
    stencil = laplacian.band_stencil(image, unknown, 1e-5)
    a, rhs, diagonal = laplacian.band_system(stencil, unknown, known, prior, 1e-2)
    answers = []
    for threads in (1, 2, 3, 7):
        x = prior[unknown].astype(np.float32)
        steps = kernels.pcg(a.indices, a.data, rhs, x, 1.0 / diagonal, 100, 1e-3, threads)
        answers.append((steps, x))
    assert all(s == answers[0][0] > 5 for s, _ in answers)
    assert all(np.array_equal(x, answers[0][1]) for _, x in answers)
    exact = np.zeros_like(rhs)  # from the answer itself: no step, as the numpy path
    assert kernels.pcg(a.indices, a.data, np.zeros_like(rhs), exact, 1.0 / diagonal, 100,
                       1e-3, 2) == 0


def test_band_at_the_frame_edge_is_bit_identical() -> None:
    """A band that runs off the frame (neighbours past the border are neither band nor
    known) and a known map that is a strided view."""
    image, unknown, known, prior = band_inputs(1.0, 3)
    unknown[:, :3] = True
    unknown[-2:, :] = True
    view = np.zeros((known.shape[0], known.shape[1] * 2), np.float32)[:, ::2]
    view[...] = known
    stencil = laplacian.band_stencil(image, unknown, 1e-5)
    (a0, rhs0, _), (a1, rhs1, _) = both(
        lambda: laplacian.band_system(stencil, unknown, view, prior, 1e-2))
    assert np.array_equal(a0.data, a1.data) and np.array_equal(a0.indices, a1.indices)
    assert np.array_equal(rhs0, rhs1)


@pytest.mark.parametrize("scale", [2.5, 8.5])
def test_matte_and_colours_agree(scale: float) -> None:
    """The whole refine step at the sizes where the matte is upsampled (2.5x: a solve at
    half size, colours fitted at half size; 8.5x, ~4300 px: a quarter of both)."""
    rgb, soft = pet(scale)

    def refine() -> tuple[np.ndarray, np.ndarray]:
        matte = matting.refine_band_matte(rgb, soft, matting.MattingParams())
        return matte.alpha, foreground.estimate_foreground(rgb, matte.alpha,
                                                           soft_tiles=matte.soft_tiles)

    (alpha0, fg0), (alpha1, fg1) = both(refine)
    soft_px = (alpha1 > 0.004) & (alpha1 < 0.996)
    assert soft_px.sum() > 10000
    # the compiled CG's float64 dots move the band's answer by a rounding (the rest of the
    # kernels by a float32 rounding): far below one level of the 8-bit matte on average
    difference = np.abs(alpha0 - alpha1)
    assert difference.max() < 5e-3 and difference.mean() < 1e-5
    assert np.array_equal(alpha0 == 0, alpha1 == 0)  # clear stays exactly clear
    shown = np.abs(alpha0[..., None] * fg0 - alpha1[..., None] * fg1.astype(np.float32))
    assert shown.max() <= 2.0  # what a composite shows moves by at most two levels
    changed = (fg0 != fg1).any(axis=-1)
    assert changed.sum() <= 1e-2 * soft_px.sum()
    assert (fg1 != rgb).any(axis=-1)[soft_px].mean() > 0.5  # the colours were cleaned
    assert np.array_equal(fg1[~soft_px], rgb[~soft_px])  # and nothing else was touched


def test_upsampling_of_a_strided_photo() -> None:
    """A photo that is a view (every other column of a wider array) gives the same matte."""
    rgb, soft = pet(2.5, 1)
    wide = np.zeros((rgb.shape[0], rgb.shape[1] * 2, 3), np.uint8)
    wide[:, ::2] = rgb
    view = wide[:, ::2]
    small = cv2.resize(soft, (soft.shape[1] // 3, soft.shape[0] // 3),
                       interpolation=cv2.INTER_AREA)
    plain, fused = both(lambda: matting.upsample_matte(small, view))
    assert np.abs(plain - fused).max() <= 1e-6
    assert ((fused > 0) & (fused < 1)).sum() > 1000


def test_bad_arguments_are_refused_before_the_c_code_runs() -> None:
    """The kernels check shapes, dtypes and index ranges themselves (a ValueError, also
    under ``python -O``), so a wrong call never reads or writes past an array."""
    if not kernels.available():
        pytest.skip("the compiled kernels are not built in this install")
    n = 8
    cols = np.zeros(25 * n, np.int32)
    vals, vec = np.ones(25 * n, np.float32), np.ones(n, np.float32)
    cols[3] = n  # one column past the vector
    with pytest.raises(ValueError, match="cols"):
        kernels.pcg(cols, vals, vec, vec.copy(), vec, 10, 1e-3, 1)
    with pytest.raises(ValueError, match="dtype"):
        kernels.pcg(cols.astype(np.int64), vals, vec, vec.copy(), vec, 10, 1e-3, 1)
    rgb = np.zeros((40, 60, 3), np.uint8)
    out = np.zeros((40, 60), np.float32)
    coefficients = np.zeros((2, 10, 15), np.float32)
    taps = (matting.AxisTaps(10, 40), matting.AxisTaps(15, 60))
    with pytest.raises(ValueError, match="active"):
        kernels.upsample_frame(coefficients, taps, rgb, out, 16, np.zeros((1, 1), np.bool_),
                               None, 1)
    with pytest.raises(ValueError, match="taps"):
        kernels.upsample_frame(np.ascontiguousarray(coefficients[:, :5]), taps, rgb, out, 16,
                               np.zeros((3, 4), np.bool_), None, 1)
    with pytest.raises(ValueError, match="planes"):
        kernels.upsample_frame(coefficients[:, :, ::2], taps, rgb, out, 16,
                               np.zeros((3, 4), np.bool_), None, 1)
    active = np.zeros((3, 4), np.bool_)
    coefficients[1] = 0.5  # a constant soft level: every tile is filled and marked
    kernels.upsample_frame(coefficients, taps, rgb, out, 16, active, None, 1)
    assert active.all() and (out == 0.5).all()
    means = np.zeros((6, 10, 15), np.float32)
    soft = np.zeros((40, 60), np.uint8)
    with pytest.raises(ValueError, match="soft"):
        kernels.colours_box(means, taps, rgb, out, soft[:, :30], rgb.copy(), 16, 1)


def test_tiled_kernels_give_the_same_bits_on_any_number_of_threads() -> None:
    """The upsampling's and the colour fit's tiles are spread over the kernels' own threads:
    each tile is one thread's, so the answer cannot depend on how many there are."""
    if not kernels.available():
        pytest.skip("the compiled kernels are not built in this install")
    rgb, soft = pet(2.5, 2)
    height, width = soft.shape
    small = np.ascontiguousarray(soft[::4, ::4])
    guide = cv2.cvtColor(np.ascontiguousarray(rgb[::4, ::4]), cv2.COLOR_RGB2GRAY)
    coefficients = matting.varying_coefficients(guide.astype(np.float32) / 255.0, small, 2,
                                                1e-4)
    taps = (matting.AxisTaps(small.shape[0], height), matting.AxisTaps(small.shape[1], width))
    mattes = []
    for threads in (1, 2, 5):
        out, band = np.zeros((height, width), np.float32), np.zeros((height, width), np.uint8)
        active = np.zeros((-(-height // 64), -(-width // 64)), np.bool_)
        kernels.upsample_frame(coefficients, taps, rgb, out, 64, active, (band, 0.004, 0.996),
                               threads)
        mattes.append((out, band, active))
    assert 0 < mattes[0][2].sum() < mattes[0][2].size  # some tiles constant, some not
    assert all(np.array_equal(a, b) for m in mattes[1:] for a, b in zip(m, mattes[0],
                                                                       strict=True))
    means = np.ascontiguousarray(np.repeat(rgb[::4, ::4].transpose(2, 0, 1), 2, axis=0),
                                 dtype=np.float32)
    outs = []
    for threads in (1, 2, 5):
        out = rgb.copy()
        kernels.colours_box(means, taps, rgb, mattes[0][0], mattes[0][1], out, 64, threads)
        outs.append(out)
    assert (outs[0] != rgb).any() and all(np.array_equal(o, outs[0]) for o in outs[1:])
