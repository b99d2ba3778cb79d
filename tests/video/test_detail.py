"""``detail``: the side RVM's backbone works at (its ``downsample_ratio``), the speed knob of the
people-video path. A smaller side still finds the person; other models refuse it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from alphacut.engine import Engine
from alphacut.errors import InvalidOption
from helpers import evaldata

pytestmark = pytest.mark.model


def person_frame() -> tuple[np.ndarray, np.ndarray]:
    data = evaldata()
    if data is None:
        pytest.skip("needs ../shared/evaldata (DAVIS 2016)")
    seq = data / "davis2016" / "dance-twirl"
    frame = np.asarray(Image.open(seq / "frames" / "00030.jpg").convert("RGB"))
    truth = np.asarray(Image.open(seq / "masks" / "00030.png").convert("L")) > 128
    return frame, truth


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    found = alpha > 0.5
    return float((found & truth).sum() / max(1, (found | truth).sum()))


def test_a_smaller_backbone_still_finds_the_person() -> None:
    frame, truth = person_frame()
    full = Engine(model="rvm", preset="fast")
    small = Engine(model="rvm", preset="fast", detail=160)
    assert (full.spec.ratio_side, small.spec.ratio_side) == (512, 160)
    a_full, a_small = full.remove(frame).alpha, small.remove(frame).alpha
    assert not np.array_equal(a_full, a_small)  # the knob reaches the model
    # one frame without history: RVM at 512 px keeps the dancer (0.81 here); at 160 px it is
    # coarser (0.51) but still the person, not the room
    assert iou(a_full, truth) >= 0.75 and iou(a_small, truth) >= 0.45
    print(f"\nIoU vs DAVIS: detail 512 {iou(a_full, truth):.3f}, 160 {iou(a_small, truth):.3f}")


def test_detail_is_refused_where_it_means_nothing() -> None:
    with pytest.raises(InvalidOption, match="detail"):
        Engine(model="u2netp", detail=160)
    engine = Engine(model="rvm", preset="fast")
    with pytest.raises(InvalidOption, match="detail"):
        engine.remove(np.zeros((64, 64, 3), np.uint8), detail=256)
