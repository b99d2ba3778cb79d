"""Server settings: one frozen object built once (from ``alphacut serve`` flags or by hand).

Defaults are chosen for a small machine that should be safe to leave running:
loopback only, one image at a time (ONNX Runtime already spreads one image over every core),
a short queue, CORS off, and limits well below what would exhaust memory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from alphacut.errors import InvalidOption
from alphacut.models.registry import DEFAULT_MODEL, get_spec, list_models

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """How the server listens, which models it may run, and its limits.

    - ``model``: the default model (loaded at start-up); ``models``: the models a request may
      pick. Empty means the default plus every built-in model whose weights are already cached,
      so a request never triggers a download.
    - ``concurrency``: images processed at once; ``queue``: requests waiting for a slot before
      the server answers 503 Busy (with Retry-After).
    - ``max_upload_bytes`` (413), ``max_pixels`` (413), ``timeout`` seconds per request (504).
    - ``threads``: ONNX Runtime threads per image (None: every core).
    - ``cors_origins``: origins allowed by CORS; empty turns CORS off.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    model: str = DEFAULT_MODEL
    models: tuple[str, ...] = ()
    concurrency: int = 1
    queue: int = 8
    max_upload_bytes: int = 32 * MIB
    max_pixels: int = 40_000_000
    timeout: float = 60.0
    threads: int | None = None
    cors_origins: tuple[str, ...] = ()
    preload: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.concurrency >= 1, "concurrency must be >= 1"),
            (self.queue >= 0, "queue must be >= 0"),
            (self.max_upload_bytes >= 1, "max upload size must be positive"),
            (self.max_pixels >= 1, "max_pixels must be >= 1"),
            (self.timeout > 0, "timeout must be > 0 seconds"),
            (self.threads is None or self.threads >= 1, "threads must be >= 1"),
            (0 <= self.port <= 65535, "port must be within 0..65535"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidOption(message)
        get_spec(self.model)
        for name in self.models:
            get_spec(name)

    def resolved(self) -> ServerSettings:
        """A copy with ``models`` filled in (and always containing the default model)."""
        models = self.models or _cached_models()
        ordered = (self.model, *[m for m in models if m != self.model])
        return dataclasses.replace(self, models=ordered)


def _cached_models() -> tuple[str, ...]:
    """Built-in models whose weights are in the cache right now."""
    from alphacut.runtime.weights import cached_path

    return tuple(spec.name for spec in list_models() if cached_path(spec) is not None)
