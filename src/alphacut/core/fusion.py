"""Mask fusion (ensembles and flip TTA): several soft masks of one photo fused into one.

Different models fail on different photos (one misses a plant, another a second flower);
fused, their mistakes shrink. Fusion is a weighted mean of the masks' logits: where one model
is sure and another only half-sure, the sure one wins; where all are unsure the result stays
unsure and the matting step resolves it from the photo's colours. Measured on
../shared/evaldata (benchmarks/quality.py): a logit mean beats a plain mean and a
confidence-weighted mean; the horizontal flip helps isnet-general but not u2net/u2netp; the
high-resolution pass on crops hurt every set (the models lose their context), so it is not
offered.

The model passes themselves run in the engine's infer stage (``engine/passes.py``); this
module only does the maths.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alphacut.types import Mask

# "auto" partner: the general model whose failures differ most from the primary's (measured)
AUTO_PARTNER = {"isnet-general": "u2net", "isnet-general-q": "u2net", "u2net": "isnet-general",
                "u2netp": "isnet-general"}
# logit weight per model in a fusion (measured: isnet-general's hair and fine structure are
# better, u2net's object choice is; 2:1 was best of 1:1, 1.5:1, 2:1, 3:1)
FUSION_WEIGHT = {"isnet-general": 2.0}
_CLIP = 1e-4  # logits are taken of [1e-4, 1 - 1e-4]: at most ±9.2


def fuse_logits(masks: Sequence[Mask], weights: Sequence[float] | None = None) -> Mask:
    """Weighted mean of the masks' logits, back through a sigmoid.

    Every mask is ``float32 (H, W)`` in [0, 1], all the same shape; returns the same.
    """
    if len(masks) == 1:
        return masks[0]
    weights = [1.0] * len(masks) if weights is None else list(weights)
    total = np.zeros(masks[0].shape, np.float32)
    for m, w in zip(masks, weights, strict=True):
        p = np.clip(m, _CLIP, 1.0 - _CLIP)
        total += np.float32(w) * np.log(p / (1.0 - p))
    total *= np.float32(-1.0 / sum(weights))
    return (1.0 / (1.0 + np.exp(total))).astype(np.float32)


def partners(primary: str | None, names: Sequence[str]) -> list[str]:
    """The models to run besides ``primary``: ``auto`` resolved, the primary itself dropped."""
    out: list[str] = []
    for name in names:
        if name == "auto":
            name = AUTO_PARTNER.get(primary or "", "u2net")
        if name != primary and name not in out:
            out.append(name)
    return out
