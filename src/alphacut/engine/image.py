"""``Engine``: one configuration's stages on images, for every front door.

Library, CLI batch, server, eval harness, benchmarks, video and cluster runners all drive an
``Engine``; none of them strings stages together itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import alphacut.engine.prefetch as prefetch
import alphacut.engine.stages as stages
from alphacut.config import Config, split_output
from alphacut.engine.passes import ModelPass, ProgressFn, SessionPool, SessionWrapper, plan_passes
from alphacut.engine.prefetch import Started
from alphacut.engine.stages import Inferred, Prepared, SoftFilter
from alphacut.errors import InvalidOption
from alphacut.models.registry import get_spec
from alphacut.models.spec import ModelSpec
from alphacut.types import RGB, Decoded, Mask, Result

ImageSource = Any  # str | Path | bytes | PIL.Image.Image | np.ndarray | binary file object


class Engine:
    """The stages for one model and its passes; sessions load on first use and are reused.

    Thread-safe: ``prepare``/``finish``/``render`` hold no shared state and ``infer`` runs
    ONNX Runtime sessions, which take concurrent calls. Per-call options may change
    refinement, output and limits, not the model or its passes.
    """

    def __init__(self, config: Config | None = None, *, progress: ProgressFn | None = None,
                 wrap_session: SessionWrapper | None = None, **options: Any) -> None:
        base = config or Config()
        self.config = base.replace(**options) if options else base
        self.spec: ModelSpec = tuned_spec(get_spec(self.config.model), self.config.runtime.detail)
        self.passes: tuple[ModelPass, ...] = plan_passes(self.spec, self.config.refine)
        self.pool = SessionPool(threads=self.config.runtime.threads, progress=progress,
                                wrap=wrap_session)
        self._backgrounds: dict[str, RGB] = {}
        self._prefetched: dict[str, Started] = {}
        self._ready: dict[int, Prepared] = {}  # id(decoded) -> its prefetched Prepared

    # ------------------------------------------------------------------ the split points

    def decode(self, source: ImageSource, timings: dict[str, float] | None = None,
               *, max_pixels: int | None = None) -> Decoded:
        """Any image source -> ``Decoded`` (``uint8 (H, W, 3)`` + own alpha + metadata)."""
        from alphacut.core.decode import decode

        limit = max_pixels or self.config.max_pixels
        timings = {} if timings is None else timings
        name = prefetch.key(source) if limit == self.config.max_pixels else None
        pending = self._prefetched.pop(name, None) if name is not None else None
        if pending is not None:
            prepared, seconds = pending.result()  # a failed decode raises here, as it would
            timings["decode"] = timings.get("decode", 0.0) + seconds
            self._ready[id(prepared.decoded)] = prepared
            return prepared.decoded
        return stages.run_timed(timings, "decode", decode, source, max_pixels=limit)

    def prefetch(self, path: str | os.PathLike[str]) -> None:
        """Start decoding and preparing the file at ``path`` on a helper thread
        (engine/prefetch.py); the next ``decode`` of that path and ``prepare`` of what it
        returns take the results (timings: the helper's decode and preprocess seconds). The
        CLI overlaps it with loading the model's session."""
        from alphacut.core.decode import decode

        self._prefetched[os.fspath(path)] = prefetch.start(path, self.config, self.passes,
                                                           decode)

    def prepare(self, decoded: Decoded, timings: dict[str, float] | None = None,
                **options: Any) -> Prepared:
        """Preprocess for every pass (around the ``roi`` box if the config or ``options``
        give one); needs no session."""
        roi = self._config_for(options).refine.roi
        ready = self._ready.pop(id(decoded), None) if self._ready else None
        if ready is not None and ready.decoded is decoded and roi == self.config.refine.roi:
            if timings is not None:
                timings.update(ready.timings)
                ready.timings = timings
            return ready
        return stages.prepare(decoded, self.passes, timings, roi=roi)

    def infer(self, items: Sequence[Prepared], *, state: Any = None) -> list[Inferred]:
        """Every model pass over ``items`` (batched per pass): one ``Inferred`` per item.

        ``state`` (from ``new_state``) carries a recurrent model's tensors between calls.
        """
        from alphacut.engine.batching import run_passes

        return run_passes(self.pool, self.passes, items, state=state)

    def mask(self, item: Prepared, inferred: Inferred, **options: Any) -> Mask:
        """The mask stage alone: the fused soft mask ``float32 (H, W)`` in [0, 1] at full
        resolution, for ``finish(..., soft=)`` later (a video filter that looks ahead)."""
        refine = self._config_for(options).refine
        return stages.run_timed(item.timings, "mask", lambda: stages.soft_mask(
            item, inferred, self.passes, refine).full())

    def finish(self, item: Prepared, inferred: Inferred, *, soft_filter: SoftFilter | None = None,
               soft: Mask | None = None, **options: Any) -> Result:
        """mask -> refine: the full-resolution Result; needs no session. ``soft``: this
        item's mask from ``mask`` (possibly filtered), instead of running the mask stage."""
        refine = self._config_for(options).refine
        return stages.finish(item, inferred, self.passes, refine, model=self.spec.name,
                             soft_filter=soft_filter, soft=soft)

    def compose(self, result: Result, **options: Any) -> Any:
        """The pixels the output asks for: ``uint8`` alpha, RGB over a background, or RGBA."""
        config = self._config_for(options)
        return stages.compose(result, config.output, self.background(config))

    def render(self, result: Result, **options: Any) -> bytes:
        """Composite and encode ``result`` as the config (or ``options``) asks."""
        config = self._config_for(options)
        return stages.render(result, config.output, self.background(config))

    def new_state(self) -> Any:
        """A fresh recurrent state for one stream of frames (ignored by image models)."""
        from alphacut.runtime.session import RecurrentState

        return RecurrentState()

    # ------------------------------------------------------------------ whole images

    def remove(self, source: ImageSource, **options: Any) -> Result:
        """decode -> prepare -> infer -> finish for one image. Output options (``bg``,
        ``format``, ``crop``...) belong to ``render``/``save``: given here they are an error."""
        _, output = split_output(options)
        if output:
            raise InvalidOption(f"{', '.join(sorted(output))}: output option(s), for render(), "
                                "process() or alphacut.api.save(); remove() returns the matte")
        config = self._config_for(options)
        timings: dict[str, float] = {}
        item = self.prepare(self.decode(source, timings, max_pixels=config.max_pixels), timings,
                            **options)
        state = self.new_state() if self.spec.recurrent else None
        (inferred,) = self.infer([item], state=state)
        return self.finish(item, inferred, **options)

    def process(self, source: ImageSource, **options: Any) -> tuple[Result, bytes]:
        """``remove`` then ``render``: the result and its encoded bytes."""
        matte, _ = split_output(options)
        result = self.remove(source, **matte)
        return result, self.render(result, **options)

    def load(self) -> None:
        """Load (and fetch) every session now, e.g. before a batch's threads start."""
        self.pool.load(self.passes)

    # ------------------------------------------------------------------ helpers

    def _config_for(self, options: dict[str, Any]) -> Config:
        if not options:
            return self.config
        config = self.config.replace(**options)
        if config.model != self.config.model or plan_passes(self.spec, config.refine) != \
                self.passes or config.runtime.detail != self.config.runtime.detail:
            raise InvalidOption("an Engine keeps its model and model passes (model, ensemble, "
                                "tta_flip, detail, a preset that adds a partner); make another for "
                                f"{config.model!r} with those options")
        return config

    def background(self, config: Config | None = None) -> RGB | None:
        """The decoded background image the output asks for (cached), or None."""
        config = config or self.config
        path = config.output.bg_image
        if path is None or config.output.mask_only:
            return None
        if path not in self._backgrounds:
            self._backgrounds[path] = self.decode(path, max_pixels=config.max_pixels).rgb
        return self._backgrounds[path]


def tuned_spec(spec: ModelSpec, detail: int | None) -> ModelSpec:
    """``spec`` with its backbone side (``ratio_side``) set to ``detail`` px, if given."""
    if detail is None:
        return spec
    if spec.ratio_input is None:
        raise InvalidOption(f"detail: {spec.name} has no downsized backbone (only models with a "
                            "ratio input such as rvm take it)")
    import dataclasses

    return dataclasses.replace(spec, ratio_side=int(detail))
