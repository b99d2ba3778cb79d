"""The temporal smoother and the video metrics, on synthetic frames (no model) and on real
DAVIS frames (skipped when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videoclips import davis_sequence, pet_frames, write_clip

from alphacut.eval.video import SequenceScorer, boundary_f, dtssd, region_j
from alphacut.video.temporal import TemporalParams, TemporalSmoother


def _square(shift: int, size: int = 12, noise: np.ndarray | None = None) -> np.ndarray:
    mask = np.zeros((96, 128), np.float32)
    mask[30:60, 40 + shift:70 + shift] = 1.0
    return np.clip(mask + (noise if noise is not None else 0), 0, 1).astype(np.float32)


def _textured(shift: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = (rng.random((96, 160, 3)) * 255).astype(np.uint8)
    import cv2

    base = cv2.GaussianBlur(base, (5, 5), 0)
    return np.ascontiguousarray(base[:, shift:shift + 128])


def test_metrics_on_known_cases() -> None:
    gt = (_square(0) * 255).astype(np.uint8)
    assert region_j(_square(0), gt) == 1.0 and boundary_f(_square(0), gt) == 1.0
    assert region_j(np.zeros_like(gt, np.float32), np.zeros_like(gt)) == 1.0
    assert 0.5 < region_j(_square(5), gt) < 1.0
    assert boundary_f(np.zeros_like(gt, np.float32), gt) == 0.0
    assert dtssd(_square(0), None, gt, None) == 0.0
    # the prediction moves exactly like the truth: no flicker
    gt2 = (_square(3) * 255).astype(np.uint8)
    assert dtssd(_square(3), _square(0), gt2, gt) == pytest.approx(0.0, abs=1e-9)
    # static truth, prediction toggles a 30x30 square: sqrt(900 / 12288) * 100
    assert dtssd(np.zeros_like(gt, np.float32), _square(0), gt, gt) == pytest.approx(
        100 * np.sqrt(900 / (96 * 128)), rel=1e-6)


def test_smoother_cuts_flicker_of_a_static_scene() -> None:
    rng = np.random.default_rng(1)
    frame = _textured(0)
    smoother = TemporalSmoother()
    raw_scorer, smooth_scorer = SequenceScorer(), SequenceScorer()
    gt = (_square(0) * 255).astype(np.uint8)
    for _ in range(12):
        noisy = _square(0, noise=rng.normal(0, 0.15, (96, 128)).astype(np.float32))
        raw_scorer.step(noisy, gt)
        smooth_scorer.step(smoother(noisy, frame), gt)
    assert smooth_scorer.results()["dtSSD"] < 0.7 * raw_scorer.results()["dtSSD"]


def test_smoother_follows_motion_without_lag() -> None:
    """A textured scene panning 3 px a frame, its mask moving with it: the smoothed mask
    must stay on the subject (flow compensation), not trail behind."""
    smoother = TemporalSmoother(TemporalParams(strength=0.8))
    for step in range(8):
        out = smoother(_square(3 * step), _textured(3 * (8 - step)))
    assert region_j(out, (_square(21) * 255).astype(np.uint8)) > 0.9


def test_scene_cut_resets_the_filter() -> None:
    smoother = TemporalSmoother()
    smoother(_square(0), _textured(0))
    other = np.full((96, 128, 3), 30, np.uint8)
    fresh = _square(20)
    assert np.array_equal(smoother(fresh, other), fresh)


def test_temporal_pipeline_is_steadier_on_davis(tmp_path: Path) -> None:
    """Real frames and masks: temporal on is steadier than frame by frame, J about equal."""
    pytest.importorskip("av")
    frames, masks = davis_sequence("blackswan", 12)
    clip = write_clip(tmp_path / "swan.mp4", frames)
    from alphacut.video import iter_video

    scores = {}
    for temporal in (False, True):
        scorer = SequenceScorer()
        for item, gt in zip(iter_video(clip, temporal=temporal, model="u2netp",
                                       preset="fast"), masks, strict=True):
            scorer.step(item.result.alpha, gt)
        scores[temporal] = scorer.results()
    assert scores[True]["J"] > 0.8  # the matte matches the ground truth
    assert scores[True]["J"] >= scores[False]["J"] - 0.01
    assert scores[True]["dtSSD"] < scores[False]["dtSSD"]


def test_eval_reads_video_sets(tmp_path: Path) -> None:
    from alphacut.eval.video import is_video_set, run_video_eval

    seq = tmp_path / "set" / "pets"
    (seq / "frames").mkdir(parents=True)
    (seq / "masks").mkdir()
    from PIL import Image

    for i, rgb in enumerate(pet_frames(3, size=(96, 72))):
        Image.fromarray(rgb).save(seq / "frames" / f"{i:05d}.jpg")
        Image.fromarray(np.zeros((72, 96), np.uint8)).save(seq / "masks" / f"{i:05d}.png")
    assert is_video_set(tmp_path / "set") and not is_video_set(tmp_path)
    rows = run_video_eval([tmp_path / "set"], tmp_path / "report",
                          {"u2netp": {"model": "u2netp", "preset": "fast"}}, progress=False)
    assert [(r["mode"], r["frames"]) for r in rows] == [("per-frame", 3), ("causal", 3),
                                                         ("window", 3)]
    assert "dtSSD" in (tmp_path / "report" / "video.md").read_text()


def test_large_frames_blend_at_working_size() -> None:
    """Above ``mask_side`` the blend runs on a smaller copy; the result is the full-size blend
    within a small tolerance, at full size."""
    import cv2

    frames = [cv2.resize(_textured(2 * i), (512, 384)) for i in range(4)]
    masks = [cv2.resize(_square(2 * i), (512, 384)) for i in range(4)]
    small = TemporalSmoother(TemporalParams(mask_side=256))
    full = TemporalSmoother(TemporalParams(mask_side=4096))
    for rgb, soft in zip(frames, masks, strict=True):
        a, b = small(soft, rgb), full(soft, rgb)
    assert a.shape == (384, 512) and a.dtype == np.float32
    assert float(np.abs(a - b).mean()) < 0.01
