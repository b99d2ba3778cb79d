"""One photo decoded and preprocessed on a helper thread while the model's session loads.

A one-photo CLI run would otherwise decode only after the session is created; both take about
a tenth of a second at 12 MP and decoding releases the GIL, so they overlap.
``Engine.prefetch`` starts one; ``Engine.decode`` of the same path and ``Engine.prepare`` of
the decoded image it returns take the results.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import alphacut.engine.stages as stages
from alphacut.config import Config
from alphacut.engine.passes import ModelPass
from alphacut.engine.stages import Prepared
from alphacut.types import Decoded

Started = Future[tuple[Prepared, float]]
"""The prepared photo and its decode's wall seconds, or the decode's (prepare's) error."""


def start(path: str | os.PathLike[str], config: Config, passes: Sequence[ModelPass],
          decode: Callable[..., Decoded]) -> Started:
    """Decode ``path`` (``decode(path, max_pixels=...)``) and prepare it for ``passes`` on a
    helper thread. Returns the future of the result."""
    future: Started = Future()

    def work() -> None:
        start_time = time.perf_counter()
        try:
            decoded = decode(path, max_pixels=config.max_pixels)
            seconds = time.perf_counter() - start_time
            prepared = stages.prepare(decoded, passes, {}, roi=config.refine.roi)
        except BaseException as exc:  # handed to the decode() that takes it
            future.set_exception(exc)
            return
        future.set_result((prepared, seconds))

    # not a daemon: an early exit (e.g. weights missing) waits for it rather than tearing
    # the interpreter down under a decode in C code (which aborted the process)
    threading.Thread(target=work, name="alphacut-prefetch", daemon=False).start()
    return future


def key(source: object) -> str | None:
    """The prefetch key of an image source: its path, or None (bytes, arrays, ...)."""
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
