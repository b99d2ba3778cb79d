"""Evaluation metrics: hand-computed values on tiny arrays, and real ground truth vs itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evaldata_locator import evaldata_set
from PIL import Image

from alphacut.eval import metrics as m
from alphacut.eval.datasets import discover
from alphacut.eval.harness import evaluate
from alphacut.eval.report import write_report

# ---------------------------------------------------------------- SAD / MSE by hand

GT_4 = np.array([[255, 255, 0, 0],
                 [0, 51, 0, 0],
                 [0, 0, 0, 0],
                 [0, 0, 0, 0]], dtype=np.uint8)  # 51/255 = 0.2
TRIMAP_4 = np.where(GT_4 == 51, 128, np.where(GT_4 == 255, 255, 0)).astype(np.uint8)


def test_sad_and_mse_by_hand() -> None:
    pred = np.zeros((4, 4), np.float32)
    unknown = TRIMAP_4 == 128
    assert m.sad(pred, GT_4) == pytest.approx((1 + 1 + 0.2) / 1000)
    assert m.sad(pred, GT_4, unknown) == pytest.approx(0.2 / 1000)
    assert m.mse(pred, GT_4) == pytest.approx((1 + 1 + 0.04) / 16)
    assert m.mse(pred, GT_4, unknown) == pytest.approx(0.04)
    errors = m.matte_errors(pred, GT_4, TRIMAP_4)
    assert errors["sad"] == pytest.approx(0.0022)
    assert errors["sad_unknown"] == pytest.approx(0.0002)
    assert errors["mse_unknown"] == pytest.approx(0.04)
    assert errors["mae"] == pytest.approx(2.2 / 16)


def test_identical_mattes_score_zero() -> None:
    gt = np.array(GT_4)
    errors = m.matte_errors(gt / 255.0, gt, TRIMAP_4)
    assert all(v == pytest.approx(0, abs=1e-12) for v in errors.values())


# ---------------------------------------------------------------- gradient


def test_gaussian_derivative_kernel_matches_gaussgradient_m() -> None:
    hx = m.gaussian_derivative_kernel(1.4)
    assert hx.shape == (9, 9)  # halfsize = ceil(1.4·sqrt(-2·log(sqrt(2π)·1.4·0.01))) = 4
    assert np.sum(hx**2) == pytest.approx(1.0)
    np.testing.assert_allclose(hx, -hx[:, ::-1])  # odd along x (derivative)
    np.testing.assert_allclose(hx, hx[::-1, :])  # even along y (smoothing)
    assert hx[4, 3] > 0 > hx[4, 5]  # -u·g(u): positive left of centre, so ∂/∂x of a ramp > 0


def test_gradient_of_ramp_is_constant_and_signed_right() -> None:
    ramp = np.tile(np.arange(20, dtype=np.float64) / 19, (20, 1))
    hx = m.gaussian_derivative_kernel(1.4)
    u = np.arange(-4, 5)
    expected = np.sum(hx * -u[None, :]) / 19  # Σ h(i,j)·I(x−j) with I(x) = x/19
    mag = m.gradient_magnitude(ramp)
    np.testing.assert_allclose(mag[5:-5, 5:-5], expected, rtol=1e-9)
    assert expected > 0


def test_gradient_error_zero_for_identical_and_grows_with_shift() -> None:
    gt = np.zeros((16, 16), np.uint8)
    gt[:, 8:] = 255
    same = m.gradient_error(gt.astype(np.float32) / 255, gt)
    shifted = [np.roll(gt, k, axis=1).astype(np.float32) / 255 for k in (1, 2)]
    shifted[0][:, :1] = shifted[1][:, :2] = 0  # keep the left border at background
    one, two = (m.gradient_error(s, gt) for s in shifted)
    assert same == 0.0
    assert 0 < one < two
    # a one-pixel shift only changes gradients near the edge: none far from it
    far = np.zeros_like(gt, dtype=bool)
    far[:, :2] = True
    assert m.gradient_error(shifted[0], gt, far) == pytest.approx(0, abs=1e-12)
    # plausible size: 16 rows of an edge shifted by one pixel, on unit-norm gradients
    assert 1e-4 < one < 1e-1


# ---------------------------------------------------------------- connectivity


def _left_column() -> np.ndarray:
    gt = np.zeros((4, 4), np.uint8)
    gt[:, 0] = 255
    return gt


def test_connectivity_zero_for_identical() -> None:
    gt = _left_column()
    gt[0, 1] = 153
    assert m.connectivity_error(gt.astype(np.float64) / 255, gt) == 0.0


@pytest.mark.parametrize(("value", "expected"), [(1.0, 1.0), (0.5, 0.5), (0.1, 0.0)])
def test_connectivity_of_a_detached_blob_by_hand(value: float, expected: float) -> None:
    # Ω = left column at every threshold; the blob leaves Ω at t=0.1 so l = 0, d = value,
    # φ = 1 − d·[d ≥ 0.15]; truth there is 0 so its φ = 1.
    gt = _left_column()
    pred = gt.astype(np.float64) / 255
    pred[0, 3] = value
    assert m.connectivity_error(pred, gt) == pytest.approx(expected / 1000)
    elsewhere = np.ones((4, 4), bool)
    elsewhere[0, 3] = False
    assert m.connectivity_error(pred, gt, elsewhere) == 0.0


def test_connectivity_of_an_attached_overshoot_by_hand() -> None:
    # truth 0.6 next to the column stays in Ω up to t=0.6 → l = 0.6; pred 1.0 → d = 0.4, φ = 0.6
    gt = _left_column()
    gt[0, 1] = 153
    pred = gt.astype(np.float64) / 255
    pred[0, 1] = 1.0
    assert m.connectivity_error(pred, gt) == pytest.approx(0.4 / 1000)


# ---------------------------------------------------------------- masks with an ignore band

GT_BAND = np.array([[255, 255, 128, 0],
                    [255, 255, 128, 0],
                    [128, 128, 128, 0],
                    [0, 0, 0, 0]], dtype=np.uint8)
PRED_BAND = np.array([[1, 1, 1, 1],
                      [1, 0, 1, 0],
                      [1, 1, 1, 0],
                      [0, 0, 0, 0]], dtype=np.float32)


def test_iou_and_mae_ignore_the_band_by_hand() -> None:
    ignore = GT_BAND == 128  # 5 pixels; 11 valid, 4 of them foreground
    assert m.iou(PRED_BAND, GT_BAND, ignore) == pytest.approx(3 / 5)
    assert m.mae(PRED_BAND, GT_BAND, ignore) == pytest.approx(2 / 11)
    scored = m.MaskScorer().step(PRED_BAND, GT_BAND, ignore)
    assert scored["iou"] == pytest.approx(3 / 5)
    assert scored["mae"] == pytest.approx(2 / 11)


def test_prediction_inside_the_band_changes_nothing() -> None:
    ignore = GT_BAND == 128
    a, b = m.MaskScorer(), m.MaskScorer()
    a.step(PRED_BAND, GT_BAND, ignore)
    b.step(np.where(ignore, 1 - PRED_BAND, PRED_BAND), GT_BAND, ignore)
    assert a.results() == pytest.approx(b.results())


def test_iou_without_band_by_hand() -> None:
    gt = np.array([[255, 255], [0, 0]], np.uint8)
    pred = np.array([[0.9, 0.2], [0.6, 0.1]], np.float32)
    assert m.iou(pred, gt) == pytest.approx(1 / 3)
    assert m.mae(pred, gt) == pytest.approx((0.1 + 0.8 + 0.6 + 0.1) / 4)


# ---------------------------------------------------------------- real ground truth


def _blur_and_shift(gt: np.ndarray) -> np.ndarray:
    import cv2

    soft = cv2.GaussianBlur(gt.astype(np.float32) / 255, (0, 0), 3)
    return np.clip(np.roll(soft, (6, 6), axis=(0, 1)), 0, 1)


def test_pysodmetrics_mae_equals_numpy_on_a_real_mask() -> None:
    sample = next(discover(evaldata_set("ecssd")).samples(limit=1))
    pred = _blur_and_shift(sample.gt)
    scored = m.MaskScorer().step(pred, sample.gt)
    assert set(np.unique(sample.gt)) <= {0, 255}
    assert scored["mae"] == pytest.approx(np.mean(np.abs(pred - sample.gt / 255.0)), rel=1e-9)


def test_real_mask_against_itself_is_perfect_and_degraded_is_worse() -> None:
    sample = next(discover(evaldata_set("ecssd")).samples(limit=1))
    perfect, worse = m.MaskScorer(), m.MaskScorer()
    perfect.step(sample.gt / 255.0, sample.gt)
    worse.step(_blur_and_shift(sample.gt), sample.gt)
    p, w = perfect.results(), worse.results()
    assert p["mae"] == 0.0
    for key in ("max_f", "s_measure", "iou", "weighted_f", "max_e"):
        # (E divides by N − 1 like the MATLAB code, so a perfect E is 1 + 1/(N−1))
        assert p[key] == pytest.approx(1.0, abs=1e-4), key
        assert w[key] < p[key] - 0.01, key
    # mean E averages 256 thresholds; the "≥ 0" one calls every pixel foreground even for a
    # perfect binary prediction, so a perfect score sits just under 1
    assert 0.99 < p["mean_e"] < 1.0
    assert w["mean_e"] < p["mean_e"] - 0.01
    assert w["mae"] > 0.01


def test_real_pet_mask_with_band_against_itself_is_perfect() -> None:
    dataset = discover(evaldata_set("oxford_iiit_pet"))
    assert dataset.kind == "mask"
    assert dataset.ignore_value == 128
    sample = next(dataset.samples(limit=1))
    assert sample.ignore is not None and sample.ignore.any()
    scorer = m.MaskScorer()
    scored = scorer.step((sample.gt == 255).astype(np.float32), sample.gt, sample.ignore)
    assert scored["mae"] == 0.0
    assert scored["iou"] == 1.0
    assert scorer.results()["max_f"] == pytest.approx(1.0, abs=1e-6)


def test_real_matte_against_itself_is_perfect_and_degraded_is_worse() -> None:
    dataset = discover(evaldata_set("alphamatting_train_lowres"))
    assert dataset.kind == "matte"
    sample = next(dataset.samples(limit=1))
    assert sample.trimap is not None
    same = m.matte_errors(sample.gt / 255.0, sample.gt, sample.trimap)
    worse = m.matte_errors(_blur_and_shift(sample.gt), sample.gt, sample.trimap)
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in same.values())
    for key in m.MATTE_METRICS:
        assert worse[key] > 0, key
    assert worse["sad"] >= worse["sad_unknown"]


def test_kinds_are_detected_and_limit_takes_the_first() -> None:
    ecssd = discover(evaldata_set("ecssd"))
    assert (ecssd.kind, ecssd.ignore_value) == ("mask", None)
    names = [s.name for s in ecssd.samples(limit=3)]
    assert names == [e[0] for e in ecssd.entries[:3]]


# ---------------------------------------------------------------- harness + report, synthetic


def _write_set(root: Path, gts: dict[str, np.ndarray], trimaps: dict[str, np.ndarray] | None
               ) -> Path:
    for sub in ("images", "masks") + (("trimaps",) if trimaps else ()):
        (root / sub).mkdir(parents=True)
    for name, gt in gts.items():
        rgb = np.dstack([gt, 255 - gt, np.full_like(gt, 90)])
        Image.fromarray(rgb).save(root / "images" / f"{name}.png")
        Image.fromarray(gt).save(root / "masks" / f"{name}.png")
        if trimaps:
            Image.fromarray(trimaps[name]).save(root / "trimaps" / f"{name}.png")
    return root


def test_evaluate_and_report_on_synthetic_sets(tmp_path: Path) -> None:
    disc = np.zeros((40, 60), np.uint8)
    disc[10:30, 20:45] = 255
    band = disc.copy()
    band[8:10, 18:47] = 128
    soft = (np.tile(np.linspace(0, 255, 60), (40, 1))).astype(np.uint8)
    tri = np.where(soft < 60, 0, np.where(soft > 200, 255, 128)).astype(np.uint8)
    sets = [
        _write_set(tmp_path / "plain", {"a": disc, "b": np.roll(disc, 5, 1)}, None),
        _write_set(tmp_path / "pets", {"p": band}, {"p": band}),
        _write_set(tmp_path / "mattes", {"m": soft}, {"m": tri}),
    ]
    assert [discover(s).kind for s in sets] == ["mask", "mask", "matte"]
    assert discover(sets[1]).ignore_value == 128

    def predict(path: Path) -> tuple[np.ndarray, dict[str, float]]:
        gt = np.asarray(Image.open(path.parent.parent / "masks" / path.name), np.float32)
        return np.roll(gt / 255, 2, 0), {"infer": 0.01, "refine": 0.002}

    result = evaluate(sets, predict=predict, config_label="fake", progress=False, keep_worst=1)
    assert set(result["sets"]) == {"plain", "pets", "mattes"}
    assert result["sets"]["plain"]["count"] == 2
    assert result["sets"]["mattes"]["metrics"]["sad"] > 0
    assert 0 < result["overall"]["metrics"]["mae"] < 0.2
    assert result["sets"]["plain"]["timings"]["infer"] == pytest.approx(0.01)

    report = write_report([result, {**result, "config": "fake again"}], tmp_path / "out")
    text = report.read_text()
    assert "| fake again |" in text and "maxF ↑" in text and "SAD unk ↓" in text
    assert (tmp_path / "out" / "gallery_fake_plain.png").is_file()
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved[0]["sets"]["plain"]["images"][0]["metrics"]["iou"] > 0
