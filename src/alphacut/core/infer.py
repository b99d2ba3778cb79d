"""Infer: run the model on a batch and turn its raw output into soft masks at model size."""

from __future__ import annotations

import numpy as np

from alphacut.models.spec import ModelSpec
from alphacut.runtime.session import ModelSession, RecurrentState
from alphacut.types import Mask, Tensor

RELEASE_ARENA_PIXELS = 16_000_000  # from this image size on, free the model's memory after it


def predict(session: ModelSession, batch: Tensor, *, image_pixels: int = 0,
            state: RecurrentState | None = None) -> list[Mask]:
    """``float32 (N, 3, h, w)`` -> N soft masks ``float32 (h, w)`` in [0, 1].

    ``image_pixels`` (H * W of the largest full image): for a large image the session's
    activation memory is released after the run, so it is not held while the full-resolution
    stages run (peak RSS); small images keep it for the next run (speed). ``state``: for a
    recurrent model, carried from frame to frame.
    """
    raw = session.run(batch, state=state, release_arena=image_pixels >= RELEASE_ARENA_PIXELS)
    return to_soft_masks(raw, session.spec, len(batch))


def to_soft_masks(raw: np.ndarray, spec: ModelSpec, count: int) -> list[Mask]:
    """Model output ``(N, C, h, w)`` (or ``(h, w)``, ``(N, h, w)``) -> N masks ``float32
    (h, w)`` in [0, 1], channel 0 of each.

    No per-image min-max stretching: a photo with no subject must stay near zero.
    """
    out = np.asarray(raw, dtype=np.float32)
    if out.ndim == 2:
        out = out[None]
    elif out.ndim == 4:
        out = out[:, 0]
    if out.ndim != 3 or out.shape[0] != count:
        from alphacut.errors import WeightsError

        raise WeightsError(f"model {spec.name} returned shape {tuple(np.shape(raw))} for a "
                           f"batch of {count}; expected (N, C, h, w)")
    if spec.activation == "sigmoid":
        out = 1.0 / (1.0 + np.exp(-out))
    out = np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
    return [out[i] for i in range(count)]
