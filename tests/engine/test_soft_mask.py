"""The mask stage's SoftMask with the real u2netp model on a large real photo: the default
preset's refine takes the working-size copy straight from the model's output, the full-size
soft mask is made only when a caller reads ``Result.soft``, and is then what it always was."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from alphacut.core import mask
from alphacut.core.refine.scale import solve_size
from alphacut.engine import Engine

pytestmark = pytest.mark.model
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"


@pytest.fixture(scope="module")
def large_photo() -> np.ndarray:
    """examples/sample.jpg at 2200 px on the long side (an exact half-size solve grid)."""
    rgb = cv2.cvtColor(cv2.imread(str(SAMPLE)), cv2.COLOR_BGR2RGB)
    scale = 2200 / max(rgb.shape[:2])
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_LANCZOS4)


def test_refine_does_not_make_the_full_size_soft_mask(u2netp_remover, large_photo) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = u2netp_remover
    item = engine.prepare(engine.decode(large_photo))
    (inferred,) = engine.infer([item])
    result = engine.finish(item, inferred)
    assert solve_size(*large_photo.shape[:2], 1024).factor == 2
    assert not result.soft_mask.made  # refine used the working-size copy only
    expected = mask.to_full_resolution(inferred.masks[0], large_photo, method="bilinear")
    np.testing.assert_array_equal(result.soft, expected)  # read: made as before
    assert result.soft_mask.made and result.soft is result.soft  # made once
    small = result.soft_mask.at(solve_size(*large_photo.shape[:2], 1024))
    shrunk = cv2.resize(expected, small.shape[::-1], interpolation=cv2.INTER_AREA)
    gap = np.abs(small - shrunk)  # the same map, sampled at the block centres (a block's
    assert gap.mean() < 1e-3 and gap.max() < 0.1  # mean differs where it spans a model cell)
    assert result.alpha.shape == large_photo.shape[:2]


def test_a_given_soft_mask_is_used_as_it_is(u2netp_remover, large_photo) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = u2netp_remover
    item = engine.prepare(engine.decode(large_photo))
    (inferred,) = engine.infer([item])
    soft = engine.mask(item, inferred)
    assert soft.shape == large_photo.shape[:2] and soft.dtype == np.float32
    result = engine.finish(item, inferred, soft=soft)
    assert result.soft is soft
