"""Streaming: decode -> model -> finish -> encode, each on its own thread, joined by small
bounded queues, so the stages overlap on the cores and memory stays constant however long
the clip is (at most ``QUEUE`` frames wait between two stages).

The model stage is one thread and sees frames in order (a recurrent model's state); the finish
stage runs in the caller's thread, also in order (the temporal filters' neighbouring frames),
and may hold a few frames back (the window filter's lookahead: ``finish`` returns the frames
that are ready, ``drain`` the rest at the end). Errors in any stage stop every stage and are
re-raised in the caller's thread; closing the iterator early (Ctrl-C, ``break``) stops them too.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from alphacut.types import Result
from alphacut.video.reader import Frame, VideoReader

QUEUE = 3
_END = object()


@dataclass
class FrameResult:
    """One finished frame: the input ``frame``, the ``result`` (``.alpha``, ``.rgba`` ...),
    and the ``pixels`` to encode (``uint8``; None when not composed)."""

    frame: Frame
    result: Result
    pixels: Any = None


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Stages:
    """The running threads of one clip; ``results()`` yields finished frames in order."""

    def __init__(self, reader: VideoReader, engine: Any, *,
                 finish: Callable[[Frame, Any, Any], Iterable[FrameResult]],
                 drain: Callable[[], Iterable[FrameResult]] = tuple) -> None:
        self.reader, self.engine, self._finish, self._drain = reader, engine, finish, drain
        self.stop = threading.Event()
        self.decoded: queue.Queue[Any] = queue.Queue(QUEUE)
        self.inferred: queue.Queue[Any] = queue.Queue(QUEUE)
        self.threads = [threading.Thread(target=self._decode, name="alphacut-decode",
                                         daemon=True),
                        threading.Thread(target=self._infer, name="alphacut-infer",
                                         daemon=True)]

    def _put(self, q: queue.Queue[Any], item: Any) -> bool:
        while not self.stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue[Any]) -> Any:
        while not self.stop.is_set():
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                continue
        return _END

    def _decode(self) -> None:
        try:
            for frame in self.reader.frames():
                if not self._put(self.decoded, (frame, self.engine.prepare(frame.rgb))):
                    return
            self._put(self.decoded, _END)
        except BaseException as exc:
            self._put(self.decoded, _Failure(exc))

    def _infer(self) -> None:
        while True:
            item = self._get(self.decoded)
            if item is _END or isinstance(item, _Failure):
                self._put(self.inferred, item)
                return
            frame, prepared = item
            try:
                small = self.engine.infer(prepared)
            except BaseException as exc:
                self._put(self.inferred, _Failure(exc))
                return
            if not self._put(self.inferred, (frame, prepared, small)):
                return

    def results(self) -> Iterator[FrameResult]:
        for thread in self.threads:
            thread.start()
        try:
            while True:
                item = self._get(self.inferred)
                if item is _END:
                    yield from self._drain()
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                frame, prepared, small = item
                yield from self._finish(frame, prepared, small)
        finally:
            self.close()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            if thread.is_alive():
                thread.join(timeout=10)


class Encoder:
    """The encode stage: a thread writing ``FrameResult.pixels`` through ``write``."""

    def __init__(self, write: Callable[[FrameResult], None]) -> None:
        self._write = write
        self.queue: queue.Queue[Any] = queue.Queue(QUEUE)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="alphacut-encode", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if self.error is None:
                try:
                    self._write(item)
                except BaseException as exc:
                    self.error = exc

    def put(self, item: FrameResult) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(item)

    def close(self) -> None:
        """Wait for every queued frame; re-raise a write error."""
        self.queue.put(_END)
        self.thread.join()
        if self.error is not None:
            raise self.error


class Meter:
    """Frames done, frames per second and wall time, for the progress bar and the report."""

    def __init__(self, total: int | None,
                 progress: Callable[[int, int | None, float], None] | None) -> None:
        self.total, self.progress = total, progress
        self.start = time.perf_counter()
        self.first: float | None = None  # when the first frame came out (pipeline full)
        self.done = 0
        self.stage_seconds: dict[str, float] = {}

    def tick(self, result: Result) -> None:
        self.done += 1
        if self.first is None:
            self.first = time.perf_counter()
        for stage, seconds in result.timings.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds
        if self.progress is not None:
            self.progress(self.done, self.total, self.fps)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    @property
    def fps(self) -> float:
        """Steady frames per second: frames after the first over the time since it came
        out (model loading and the pipeline's fill are left out); whole-run rate before."""
        if self.first is not None and self.done > 1:
            return (self.done - 1) / max(time.perf_counter() - self.first, 1e-9)
        elapsed = self.seconds
        return self.done / elapsed if elapsed > 0 else 0.0
