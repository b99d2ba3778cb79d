"""The video path's only door into the image engine: prepare, infer and finish one frame.

Until ``alphacut.engine`` lands this wraps ``alphacut.api.Remover`` and ``core.pipeline``;
``soft_filter`` (the temporal smoother) runs on the model's full-resolution soft mask before
refinement, exactly where the engine's ``finish(..., soft_filter=)`` hook will call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alphacut.config import Config
from alphacut.types import RGB, Decoded, ImageMeta, Result

SoftFilter = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Prepared:
    """One frame ready for the model: the decoded frame, its tensor, its stage timings."""

    decoded: Decoded
    tensor: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


class FrameEngine:
    """Runs one model over frames; ``infer`` holds the only session call (one thread)."""

    def __init__(self, config: Config) -> None:
        from alphacut.api import Remover

        self.config = config
        self.remover = Remover(config)
        self._background: RGB | None = None

    @property
    def model(self) -> str:
        return self.config.model

    def load(self) -> None:
        """Load (and fetch) the model's session now rather than on the first frame."""
        _ = self.remover.session

    def prepare(self, rgb: RGB) -> Prepared:
        """RGB ``uint8 (H, W, 3)`` -> the model's input tensor (no session needed)."""
        from alphacut.core import pipeline

        height, width = rgb.shape[:2]
        decoded = Decoded(rgb=rgb, alpha=None, meta=ImageMeta(width=width, height=height,
                                                             source_format="video"))
        timings: dict[str, float] = {}
        return Prepared(decoded, pipeline.prepare(decoded, self.remover.spec, timings), timings)

    def infer(self, item: Prepared) -> np.ndarray:
        """The model's soft mask at its own size, ``float32 (h, w)`` in [0, 1]."""
        from alphacut.core import pipeline
        from alphacut.core.infer import predict

        return pipeline.run_timed(item.timings, "infer", predict, self.remover.session,
                                  item.tensor)

    def finish(self, item: Prepared, small: np.ndarray,
               soft_filter: SoftFilter | None = None) -> Result:
        """Model mask -> Result at full resolution; ``soft_filter(soft, rgb)`` runs on the
        soft mask ``float32 (H, W)`` before refinement."""
        from alphacut.core import mask, pipeline

        rgb, refine, timings = item.decoded.rgb, self.config.refine, item.timings
        soft = pipeline.run_timed(timings, "mask", mask.to_full_resolution, small, rgb,
                                  method=refine.upsample, radius=refine.guided_radius,
                                  eps=refine.guided_eps)
        if soft_filter is not None:
            soft = pipeline.run_timed(timings, "temporal", soft_filter, soft, rgb)
        with pipeline.timed(timings, "refine"):
            alpha, foreground = pipeline.refine_matte(rgb, soft, refine,
                                                      session=self.remover.session)
        return Result(image=rgb, mask=soft, alpha=alpha, foreground=foreground,
                      meta=item.decoded.meta, model=self.model, timings=timings)

    def compose(self, result: Result, background: RGB | None = None) -> np.ndarray:
        """Result -> pixels: grey ``(H, W)`` matte, ``(H, W, 3)`` over a background, or the
        ``(H, W, 4)`` cut-out (as the config's output options say)."""
        from alphacut.core import pipeline

        return pipeline.run_timed(result.timings, "composite", pipeline.compose, result,
                                  self.config.output, background)

    def background_image(self) -> RGB | None:
        """The ``--bg IMAGE`` picture, decoded once."""
        return self.remover._background(self.config)


def engine_for(config: Config) -> Any:
    """The frame engine for ``config`` (one place to switch to ``alphacut.engine``)."""
    return FrameEngine(config)
