"""Preprocess: full-resolution RGB -> normalised tensor at the model's input size."""

from __future__ import annotations

import cv2
import numpy as np

from alphacut.models.spec import ModelSpec
from alphacut.types import RGB, Tensor


def model_input_size(spec: ModelSpec, height: int, width: int) -> tuple[int, int]:
    """The (h, w) the model runs at for an image of ``height`` x ``width``."""
    if spec.resize == "fixed":
        return spec.input_size
    if spec.resize == "max_side":
        scale = min(1.0, spec.input_size[0] / max(height, width))
    else:
        scale = spec.input_size[0] / min(height, width)
    m = spec.multiple

    def snap(v: float) -> int:
        return max(m, round(v / m) * m)

    return snap(height * scale), snap(width * scale)


def resize_rgb(rgb: RGB, size: tuple[int, int]) -> RGB:
    """Resize ``uint8 (H, W, 3)`` to ``size`` (h, w); area filter when shrinking."""
    h, w = size
    shrinking = h * w < rgb.shape[0] * rgb.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(rgb, (w, h), interpolation=interpolation)


def normalise(small: RGB, spec: ModelSpec) -> Tensor:
    """``uint8 (h, w, 3)`` -> ``float32 (1, 3, h, w)`` scaled and normalised per the spec."""
    x = small.astype(np.float32)
    peak = float(x.max()) if spec.scale == "divide_max" else 255.0
    x *= 1.0 / max(peak, 1e-6)
    mean = np.asarray(spec.mean, dtype=np.float32)
    inv_std = 1.0 / np.asarray(spec.std, dtype=np.float32)
    x -= mean
    x *= inv_std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def to_tensor(rgb: RGB, spec: ModelSpec) -> Tensor:
    """Full-resolution ``uint8 (H, W, 3)`` -> model input ``float32 (1, 3, h, w)``."""
    size = model_input_size(spec, rgb.shape[0], rgb.shape[1])
    return normalise(resize_rgb(rgb, size), spec)
