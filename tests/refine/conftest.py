"""Fixtures shared by the refine tests: a real photo with a model-like soft mask."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
from evaldata_locator import evaldata_set


@pytest.fixture(scope="module")
def fur() -> tuple[np.ndarray, np.ndarray]:
    """alphamatting.com GT04 (fur) ``uint8 (h, w, 3)`` and a model-like soft mask ``float32
    (h, w)`` in [0, 1]: the true alpha seen at 320 px, blurred, brought back up (skips
    without ../shared)."""
    from alphacut.eval.datasets import discover, read_rgb

    sample = discover(evaldata_set("alphamatting_train_lowres")).sample("GT04")
    truth = sample.gt.astype(np.float32) / 255.0
    h, w = truth.shape
    small = cv2.GaussianBlur(cv2.resize(truth, (320, 320), interpolation=cv2.INTER_AREA),
                             (0, 0), 1.0)
    return read_rgb(sample.image_path), cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
