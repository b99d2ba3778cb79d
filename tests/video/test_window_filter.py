"""The symmetric window filter (video/lookahead.py) on synthetic frames, and its place in the
pipeline: the lag, the order, the end of the clip, the causal fallback (``lookahead=0``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from videoclips import pet_frames, write_clip

from alphacut.eval.video import SequenceScorer, region_j
from alphacut.video.lookahead import WindowSmoother, from_logit, to_logit
from alphacut.video.temporal import TemporalParams, TemporalSmoother


def _square(shift: int, noise: np.ndarray | None = None) -> np.ndarray:
    mask = np.zeros((96, 128), np.float32)
    mask[30:60, 40 + shift:70 + shift] = 1.0
    return np.clip(mask + (noise if noise is not None else 0), 0, 1).astype(np.float32)


def _textured(shift: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur((rng.random((96, 200, 3)) * 255).astype(np.uint8), (5, 5), 0)
    return np.ascontiguousarray(base[:, shift:shift + 128])


def _run(smoother: WindowSmoother, softs: list[np.ndarray], rgbs: list[np.ndarray]
         ) -> tuple[list[np.ndarray], list[int]]:
    """Every frame through ``smoother``; the outputs in order, and how many frames had been
    pushed when each came out."""
    outs: dict[int, np.ndarray] = {}
    pushed_at: list[int] = []
    for i, (soft, rgb) in enumerate(zip(softs, rgbs, strict=True)):
        for key, out in smoother.push(i, soft, rgb):
            outs[key] = out
            pushed_at.append(i + 1)
    for key, out in smoother.flush():
        outs[key] = out
        pushed_at.append(len(softs))
    assert list(outs) == list(range(len(softs)))  # every frame once, in order
    return [outs[i] for i in range(len(softs))], pushed_at


def test_frames_come_out_k_late_in_order_and_all_at_the_end() -> None:
    softs = [_square(2 * i) for i in range(7)]
    rgbs = [_textured(2 * (10 - i)) for i in range(7)]
    smoother = WindowSmoother(TemporalParams(lookahead=2))
    outs, pushed_at = _run(smoother, softs, rgbs)
    assert pushed_at == [3, 4, 5, 6, 7, 7, 7]  # frame t once t+2 is in; the last two at the end
    assert len(smoother._slots) <= 2 * 2 + 1  # bounded: the window, never the clip
    assert all(o.shape == (96, 128) and o.dtype == np.float32 for o in outs)


def test_window_cuts_flicker_of_a_static_scene_more_than_the_causal_filter() -> None:
    rng = np.random.default_rng(1)
    frame = _textured(0)
    gt = (_square(0) * 255).astype(np.uint8)
    noisy = [_square(0, rng.normal(0, 0.15, (96, 128)).astype(np.float32)) for _ in range(14)]
    window, _ = _run(WindowSmoother(), noisy, [frame] * len(noisy))
    causal = TemporalSmoother()
    scores = {name: SequenceScorer() for name in ("raw", "causal", "window")}
    for soft, smooth in zip(noisy, window, strict=True):
        scores["raw"].step(soft, gt)
        scores["causal"].step(causal(soft, frame), gt)
        scores["window"].step(smooth, gt)
    dt = {name: s.results()["dtSSD"] for name, s in scores.items()}
    assert dt["window"] < 0.5 * dt["raw"]
    assert scores["window"].results()["J"] == 1.0


def test_window_follows_motion_without_lag() -> None:
    """A textured scene panning 3 px a frame, the mask moving with it: every output stays on
    its own frame's subject (the neighbours are warped, not averaged in place)."""
    steps = 8
    softs = [_square(3 * i) for i in range(steps)]
    rgbs = [_textured(3 * (20 - i)) for i in range(steps)]
    outs, _ = _run(WindowSmoother(TemporalParams(lookahead=3)), softs, rgbs)
    for i, out in enumerate(outs):
        assert region_j(out, (softs[i] * 255).astype(np.uint8)) > 0.9


def test_neighbours_across_a_scene_cut_are_left_out() -> None:
    softs = [_square(0), _square(0), _square(25), _square(25)]
    rgbs = [_textured(0), _textured(0), _textured(0, seed=7), _textured(0, seed=7)]
    outs, _ = _run(WindowSmoother(TemporalParams(lookahead=2)), softs, rgbs)
    for out, soft in zip(outs, softs, strict=True):
        assert float(np.abs(out - soft).max()) < 0.02  # nothing bled over the cut


def test_logit_round_trip_keeps_certain_pixels_exact() -> None:
    p = np.array([0.0, 1e-5, 0.25, 0.5, 0.9, 1.0], np.float32)
    back = from_logit(to_logit(p))
    assert back[0] == 0.0 and back[1] == 0.0 and back[-1] == 1.0
    assert np.allclose(back[2:5], p[2:5], atol=1e-5)


def test_bad_lookahead_is_a_typed_error() -> None:
    from alphacut.errors import InvalidOption

    with pytest.raises(InvalidOption):
        TemporalParams(lookahead=-1)
    with pytest.raises(InvalidOption):
        TemporalParams(window_flow="slow")


@pytest.mark.model
def test_pipeline_gives_every_frame_in_order_with_both_filters(tmp_path: Path) -> None:
    """Through ``iter_video``: the window filter holds frames back and still gives every one,
    in order, like the causal filter and frame by frame; both move the matte a little."""
    pytest.importorskip("av")
    clip = write_clip(tmp_path / "pets.mp4", pet_frames(6, size=(96, 72)))
    from alphacut.video import iter_video

    alphas = {}
    for name, temporal in (("off", False), ("causal", TemporalParams(lookahead=0)),
                           ("window", True)):
        items = list(iter_video(clip, temporal=temporal, model="u2netp"))
        assert [item.frame.index for item in items] == list(range(6))
        alphas[name] = np.stack([item.result.alpha for item in items])
        if name != "off":
            assert all("temporal" in item.result.timings for item in items[1:])
    for name in ("causal", "window"):
        change = float(np.abs(alphas[name] - alphas["off"]).mean())
        assert 0.0 < change < 0.1, (name, change)


@pytest.mark.model
def test_engine_mask_then_finish_equals_finish() -> None:
    """The split the window filter uses (``Engine.mask``, then ``finish(soft=)``) gives the
    same Result as the engine's own finish; a changed ``soft`` reaches the matte."""
    from alphacut.video.api import video_config
    from alphacut.video.frames import FrameEngine

    engine = FrameEngine(video_config({"model": "u2netp", "preset": "balanced"}))
    rgb = pet_frames(1, size=(96, 72))[0]
    item = engine.prepare(rgb)
    inferred = engine.infer(item)
    whole = engine.finish(item, inferred)
    soft = engine.mask(engine.prepare(rgb), inferred)
    split = engine.finish(engine.prepare(rgb), inferred, soft=soft)
    assert np.array_equal(whole.soft, split.soft) and np.array_equal(whole.alpha, split.alpha)
    moved = engine.finish(engine.prepare(rgb), inferred, soft=np.zeros_like(soft))
    assert float(moved.alpha.max()) == 0.0
