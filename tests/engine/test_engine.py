"""The engine's split points with the real u2netp model: batches, passes, no session after
infer, recurrent state."""

from __future__ import annotations

import numpy as np
import pytest

from alphacut.engine import Engine
from alphacut.engine.passes import plan_passes
from alphacut.errors import InvalidOption
from alphacut.models.registry import get_spec
from helpers import PETS, iou_outside_band, truth_for

pytestmark = pytest.mark.model


def test_a_batch_gives_the_same_mattes_as_one_image_at_a_time(u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = u2netp_remover
    items = [engine.prepare(engine.decode(p)) for p in PETS[:3]]
    together = engine.infer(items)
    alone = [engine.infer([item])[0] for item in items]
    assert len(together) == 3
    for a, b in zip(together, alone, strict=True):
        assert np.allclose(a.masks[0], b.masks[0], atol=1e-5)
    result = engine.finish(items[2], together[2])
    assert iou_outside_band(result.alpha, truth_for(PETS[2])) > 0.85


def test_finish_needs_no_session_and_the_soft_filter_runs_before_refine(u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = u2netp_remover
    item = engine.prepare(engine.decode(PETS[0]))
    (inferred,) = engine.infer([item])
    seen = []

    def emptied(soft: np.ndarray, rgb: np.ndarray) -> np.ndarray:
        seen.append((soft.shape, rgb.shape))
        return np.zeros_like(soft)

    other = Engine(engine.config)  # a fresh engine: no session loaded in its pool
    result = other.finish(item, inferred, soft_filter=emptied)
    assert seen == [(result.alpha.shape, result.image.shape)]
    assert result.alpha.max() == 0.0  # refine worked from the filtered mask
    assert not other.pool._sessions


def test_flip_and_partner_passes_run_in_infer() -> None:
    u2netp = get_spec("u2netp")
    engine = Engine(model="u2netp", tta_flip=True, ensemble="u2netp")
    assert [(p.spec.name, p.flip) for p in engine.passes] == [("u2netp", False), ("u2netp", True)]
    item = engine.prepare(engine.decode(PETS[0]))
    assert len(item.tensors) == 2
    assert np.array_equal(item.tensors[1], engine.prepare(engine.decode(
        np.ascontiguousarray(item.decoded.rgb[:, ::-1]))).tensors[0])
    (inferred,) = engine.infer([item])
    assert len(inferred.masks) == 2
    assert plan_passes(u2netp, Engine(model="u2netp").config.refine) != engine.passes
    with pytest.raises(InvalidOption, match="passes"):
        engine.remove(PETS[0], tta_flip=False)


def test_recurrent_state_is_carried_between_frames() -> None:
    from alphacut.runtime.weights import cached_path

    if cached_path(get_spec("rvm")) is None:
        pytest.skip("rvm weights not cached (alphacut models pull rvm)")
    engine = Engine(model="rvm", preset="fast")
    frames = [engine.prepare(engine.decode(PETS[0])) for _ in range(3)]
    state = engine.new_state()
    masks, states = [], []
    for frame in frames:
        masks.append(engine.infer([frame], state=state)[0].masks[0])
        states.append(state.values["r4i"].copy())
    assert set(state.values) == {"r1i", "r2i", "r3i", "r4i"}
    assert masks[0].shape == frames[0].tensors[0].shape[-2:]
    assert not np.allclose(states[0], states[2])  # the state evolves frame after frame
    fresh = engine.infer([frames[0]], state=engine.new_state())[0].masks[0]
    assert np.allclose(fresh, masks[0], atol=1e-5)
    with pytest.raises(InvalidOption, match="recurrent"):
        engine.infer([frames[0]])


@pytest.mark.parametrize("shape", [(1, 1100), (3, 4100), (1500, 2)])
def test_a_strip_of_a_real_photo_comes_out_whole(u2netp_remover, shape) -> None:  # type: ignore[no-untyped-def]
    """A banner-like strip (a row or column band of a real pet photo, stretched to the size):
    the cut-out keeps its size, where a half- or quarter-size colour fit of a strip under a
    few pixels thick once failed inside OpenCV's resize."""
    import cv2

    photo = u2netp_remover.decode(PETS[0]).rgb
    h, w = photo.shape[:2]
    band = photo[h // 2:h // 2 + 4] if shape[0] < shape[1] else photo[:, w // 2:w // 2 + 4]
    strip = cv2.resize(band, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    result = u2netp_remover.remove(strip)
    assert result.alpha.shape == shape and result.rgba.shape == (*shape, 4)
    assert np.isfinite(result.alpha).all()
