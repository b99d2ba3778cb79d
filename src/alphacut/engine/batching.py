"""The infer stage: every pass over a batch of prepared images, grouped by input shape."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from alphacut.core.infer import predict
from alphacut.engine.passes import ModelPass, SessionPool
from alphacut.engine.stages import Inferred, Prepared
from alphacut.types import Mask


def run_passes(pool: SessionPool, passes: Sequence[ModelPass], items: Sequence[Prepared], *,
               state: Any = None) -> list[Inferred]:
    """One ``Inferred`` per item, its masks in pass order; the wall time of each batch is
    shared out to its items' ``timings["infer"]``."""
    masks: list[list[Mask]] = [[] for _ in items]
    for index, model_pass in enumerate(passes):
        session = pool.get(model_pass.spec)
        for group in _same_shape(items, index):
            start = time.perf_counter()
            tensors = [items[i].tensors[index] for i in group]
            batch = tensors[0] if len(tensors) == 1 else np.concatenate(tensors)  # no copy of one
            pixels = max(items[i].pixels for i in group)
            outputs = predict(session, batch, image_pixels=pixels, state=state)
            share = (time.perf_counter() - start) / len(group)
            for i, out in zip(group, outputs, strict=True):
                masks[i].append(out)
                items[i].timings["infer"] = items[i].timings.get("infer", 0.0) + share
    return [Inferred(m) for m in masks]


def _same_shape(items: Sequence[Prepared], index: int) -> list[list[int]]:
    """Indices of ``items`` grouped by the shape of their pass-``index`` tensor, in order."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(tuple(item.tensors[index].shape), []).append(i)
    return list(groups.values())
