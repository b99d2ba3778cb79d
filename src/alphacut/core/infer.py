"""Infer: run the model and turn its raw output into a soft mask at model resolution."""

from __future__ import annotations

import numpy as np

from alphacut.models.spec import ModelSpec
from alphacut.runtime.session import ModelSession
from alphacut.types import Mask, Tensor

RELEASE_ARENA_PIXELS = 16_000_000  # from this image size on, free the model's memory after it


def predict(session: ModelSession, tensor: Tensor, *, image_pixels: int = 0) -> Mask:
    """``float32 (1, 3, h, w)`` -> soft mask ``float32 (h, w)`` in [0, 1].

    ``image_pixels`` (H * W of the full image): for a large image the session's activation
    memory is released after the run, so it is not held while the full-resolution stages
    run (peak RSS); small images keep it for the next run (speed).
    """
    raw = session.run(tensor, release_arena=image_pixels >= RELEASE_ARENA_PIXELS)
    return to_soft_mask(raw, session.spec)


def to_soft_mask(raw: np.ndarray, spec: ModelSpec) -> Mask:
    """Model output ``(1, C, h, w)`` -> ``float32 (h, w)`` in [0, 1].

    No per-image min-max stretching: a photo with no subject must stay near zero.
    """
    out = np.asarray(raw, dtype=np.float32)
    out = out.reshape(out.shape[-2:]) if out.ndim == 2 else out.reshape(-1, *out.shape[-2:])[0]
    if spec.activation == "sigmoid":
        out = 1.0 / (1.0 + np.exp(-out))
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
