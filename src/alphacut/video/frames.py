"""The video path's only door into the image engine (``alphacut.engine.Engine``).

One ``FrameEngine`` per clip: it holds the engine and, for a recurrent model (rvm), the
state carried from frame to frame. ``infer`` must be called in display order (the runner's
single model thread does that); ``prepare``/``finish``/``compose`` hold no shared state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alphacut.config import Config
from alphacut.engine import Engine, Inferred, Prepared
from alphacut.engine.stages import SoftFilter
from alphacut.types import RGB, Decoded, ImageMeta, Result


class FrameEngine:
    """Runs one configuration's stages over the frames of one clip."""

    def __init__(self, config: Config) -> None:
        self.engine = Engine(config)
        self.config = self.engine.config
        self.recurrent = bool(self.engine.spec.recurrent)
        self.state = self.engine.new_state() if self.recurrent else None

    @property
    def model(self) -> str:
        return self.engine.spec.name

    def load(self) -> None:
        """Load (and fetch) the sessions now rather than on the first frame."""
        self.engine.load()

    def prepare(self, rgb: RGB) -> Prepared:
        """RGB ``uint8 (H, W, 3)`` -> every pass's input tensor (no session needed)."""
        height, width = rgb.shape[:2]
        meta = ImageMeta(width=width, height=height, source_format="video")
        return self.engine.prepare(Decoded(rgb=rgb, alpha=None, meta=meta))

    def infer(self, item: Prepared) -> Inferred:
        """The model passes for one frame (a recurrent model's state moves on by one)."""
        (inferred,) = self.engine.infer([item], state=self.state)
        return inferred

    def mask(self, item: Prepared, inferred: Inferred) -> np.ndarray:
        """The mask stage alone: soft mask ``float32 (H, W)`` in [0, 1] at full resolution."""
        return self.engine.mask(item, inferred)

    def finish(self, item: Prepared, inferred: Inferred,
               soft_filter: SoftFilter | None = None, soft: np.ndarray | None = None) -> Result:
        """Model masks -> Result at full resolution; ``soft_filter(soft, rgb)`` runs on the
        soft mask ``float32 (H, W)`` between the mask and refine stages; ``soft``: the mask
        from ``mask`` (filtered), instead of running the mask stage again."""
        return self.engine.finish(item, inferred, soft_filter=soft_filter, soft=soft)

    def compose(self, result: Result, background: RGB | None = None) -> np.ndarray:
        """Result -> pixels: grey ``(H, W)`` matte, ``(H, W, 3)`` over a background, or the
        ``(H, W, 4)`` cut-out, as the config's output options say. ``background``: this
        frame's background picture (a background video), else the config's own."""
        from alphacut.engine import stages

        bg = background if background is not None else self.engine.background(self.config)
        return stages.run_timed(result.timings, "composite", stages.compose, result,
                                self.config.output, bg)

    def background_image(self) -> RGB | None:
        """The ``--bg IMAGE`` picture, decoded once (None without one)."""
        return self.engine.background(self.config)


def engine_for(config: Config) -> Any:
    """The frame engine for ``config``."""
    return FrameEngine(config)
