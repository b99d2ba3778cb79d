"""Preprocess: full-resolution RGB -> normalised tensor at the model's input size."""

from __future__ import annotations

import math

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
    """Resize ``uint8 (H, W, 3)`` to ``size`` (h, w); area filter when shrinking (one
    ``cv2.resize``: the web page's preprocessing re-implements exactly this)."""
    h, w = size
    shrinking = h * w < rgb.shape[0] * rgb.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(rgb, (w, h), interpolation=interpolation)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``cv2.INTER_AREA`` resize of an ``(H, W)`` or ``(H, W, C)`` image (any dtype OpenCV
    takes) to ``size = (h, w)``, in two steps when it pays: first an exact k-fold box average
    (``k`` the largest integer that divides both ``H`` and ``W`` and is at most the shrink
    ratio of either axis: OpenCV's integer path, several times cheaper), then the area resize
    of that to ``size``. Same dtype and channels; the two-step result differs from the direct
    one by at most ~2 levels of 255 on a photo."""
    height, width = image.shape[:2]
    h, w = size
    k = integer_factor(height, width, h, w)
    if k > 1:
        image = cv2.resize(image, (width // k, height // k), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def integer_factor(height: int, width: int, h: int, w: int) -> int:
    """The largest ``k >= 1`` dividing both ``height`` and ``width`` with ``height // k >= h``
    and ``width // k >= w``."""
    common = math.gcd(height, width)
    for k in range(min(height // max(h, 1), width // max(w, 1)), 1, -1):
        if common % k == 0:
            return k
    return 1


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
