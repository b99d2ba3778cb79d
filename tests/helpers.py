"""Shared test helpers: fixture paths, the eval data location, IoU outside an ignore band."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PETS = sorted((FIXTURES / "pets").glob("*.jpg"))
SAMPLE = ROOT / "examples" / "sample.jpg"


def evaldata() -> Path | None:
    """``../shared/evaldata`` beside the checkout (or ALPHACUT_EVALDATA), if present."""
    env = os.environ.get("ALPHACUT_EVALDATA")
    path = Path(env) if env else ROOT.parent / "shared" / "evaldata"
    return path if path.is_dir() else None


def truth_for(image: Path) -> np.ndarray:
    """The fixture's ground-truth mask, ``uint8 (H, W)``: 255 pet, 0 bg, 128 ignore."""
    return np.asarray(Image.open(image.with_name(image.stem + ".mask.png")))


def iou_outside_band(alpha: np.ndarray, truth: np.ndarray) -> float:
    """IoU of ``alpha > 0.5`` against ``truth > 128``, ignoring pixels where truth == 128."""
    valid = truth != 128
    pred = (alpha > 0.5) & valid
    gt = (truth > 128) & valid
    union = (pred | gt).sum()
    return float((pred & gt).sum() / union) if union else 1.0
