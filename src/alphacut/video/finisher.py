"""The finish stage of one clip: mask -> temporal filter -> refine -> compose, frame by frame
in display order, through the engine (``FrameEngine``; the engine keeps the stage order).

With the window filter (``TemporalParams.lookahead > 0``) a frame is finished once the masks
of the ``lookahead`` frames after it are in, so results come out that many frames late and
``drain`` gives the last ones; with ``lookahead=0`` the causal filter runs inside the engine's
finish (``soft_filter``) and every frame comes out at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from alphacut.types import Result
from alphacut.video.runner import FrameResult
from alphacut.video.temporal import TemporalParams

Compose = Callable[[Any, Result], Any]  # (frame, result) -> pixels to encode, or None


class Finisher:
    """``finisher(frame, prepared, inferred)`` yields the ``FrameResult``s that are ready;
    ``drain()`` yields the rest at the end of the clip. ``temporal``: the filter's
    parameters, or None for frame by frame."""

    def __init__(self, engine: Any, temporal: TemporalParams | None,
                 compose: Compose | None = None) -> None:
        self.engine, self.compose = engine, compose
        self.causal = self.window = None
        if temporal is not None and temporal.lookahead > 0:
            from alphacut.video.lookahead import WindowSmoother

            self.window = WindowSmoother(temporal)
        elif temporal is not None:
            from alphacut.video.temporal import TemporalSmoother

            self.causal = TemporalSmoother(temporal)

    def __call__(self, frame: Any, prepared: Any, inferred: Any) -> Iterator[FrameResult]:
        if self.window is None:
            yield self._result((frame, prepared, inferred), None)
            return
        soft = self.engine.mask(prepared, inferred)
        start = time.perf_counter()
        ready = self.window.push((frame, prepared, inferred), soft, frame.rgb)
        _add(prepared.timings, "temporal", time.perf_counter() - start)
        for item, smoothed in ready:
            yield self._result(item, smoothed)

    def drain(self) -> Iterator[FrameResult]:
        if self.window is None:
            return
        pending = self.window.flush()
        while True:
            start = time.perf_counter()
            item = next(pending, None)
            if item is None:
                return
            _add(item[0][1].timings, "temporal", time.perf_counter() - start)
            yield self._result(*item)

    def _result(self, item: tuple[Any, Any, Any], soft: Any) -> FrameResult:
        frame, prepared, inferred = item
        result = self.engine.finish(prepared, inferred, soft_filter=self.causal, soft=soft)
        pixels = self.compose(frame, result) if self.compose is not None else None
        return FrameResult(frame, result, pixels)


def _add(timings: dict[str, float], stage: str, seconds: float) -> None:
    timings[stage] = timings.get(stage, 0.0) + seconds
