"""Server settings: one frozen object built once (from ``alphacut serve`` flags or by hand).

Defaults are chosen for a small machine that should be safe to leave running:
loopback only, one image at a time (ONNX Runtime already spreads one image over every core),
a short queue, CORS off, and limits well below what would exhaust memory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from alphacut.errors import InvalidOption
from alphacut.models.registry import DEFAULT_MODEL, get_spec, list_models

MIB = 1024 * 1024
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")


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
    - Hostile clients: ``header_timeout`` (seconds to send a request's headers),
      ``body_timeout`` (seconds to send a whole body), ``keepalive_timeout`` (idle seconds
      between requests), ``send_timeout`` (seconds a client may leave a response unread),
      ``max_connections`` (open connections; more are refused with 503), ``upload_budget_bytes``
      (bytes of all uploads being read at once; beyond it 503; None: 4 full uploads, at least
      128 MiB).
    - ``allowed_hosts``: ``Host`` names accepted besides loopback and the bound address ("*":
      any); ``api_keys``: if any, every route but /healthz, / and /static needs one.
    - ``access_log``: one JSON line per request on the ``alphacut.access`` logger.
    - remove.bg-compatible endpoint (``/v1.0/removebg``): ``allow_url_fetch`` lets clients
      send ``image_url``/``bg_image_url`` (off: refused); fetches go to public addresses
      only, at most ``url_fetch_max_bytes`` (None: ``max_upload_bytes``) within
      ``url_fetch_timeout`` seconds, following at most ``url_fetch_redirects`` redirects.
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
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    keepalive_timeout: float = 5.0
    send_timeout: float = 30.0
    max_connections: int = 256
    upload_budget_bytes: int | None = None
    allowed_hosts: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    access_log: bool = True
    # remove.bg-compatible endpoint: fetching image_url / bg_image_url (off by default)
    allow_url_fetch: bool = False
    url_fetch_timeout: float = 10.0
    url_fetch_max_bytes: int | None = None
    url_fetch_redirects: int = 3

    def __post_init__(self) -> None:
        checks = [
            (self.concurrency >= 1, "concurrency must be >= 1"),
            (self.queue >= 0, "queue must be >= 0"),
            (self.max_upload_bytes >= 1, "max upload size must be positive"),
            (self.max_pixels >= 1, "max_pixels must be >= 1"),
            (self.timeout > 0, "timeout must be > 0 seconds"),
            (self.threads is None or self.threads >= 1, "threads must be >= 1"),
            (0 <= self.port <= 65535, "port must be within 0..65535"),
            (min(self.header_timeout, self.body_timeout, self.keepalive_timeout,
                 self.send_timeout) > 0, "connection timeouts must be > 0 seconds"),
            (self.max_connections >= 1, "max_connections must be >= 1"),
            (self.upload_budget_bytes is None or self.upload_budget_bytes >= 1,
             "the upload budget must be positive"),
            (all(len(k) >= 16 for k in self.api_keys), "API keys must be at least 16 characters"),
            (self.url_fetch_timeout > 0, "url_fetch_timeout must be > 0 seconds"),
            (self.url_fetch_max_bytes is None or self.url_fetch_max_bytes >= 1,
             "url_fetch_max_bytes must be positive"),
            (0 <= self.url_fetch_redirects <= 10, "url_fetch_redirects must be within 0..10"),
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
        budget = max(self.upload_budget_bytes or max(128 * MIB, 4 * self.max_upload_bytes),
                     self.max_upload_bytes + MIB)  # one full upload always fits
        return dataclasses.replace(self, models=ordered, upload_budget_bytes=budget)

    def host_names(self) -> frozenset[str]:
        """``Host`` names (lower case, no port) this server answers: loopback names, the bound
        address unless it is a wildcard, and ``allowed_hosts``."""
        names = {*LOOPBACK_HOSTS, *(h.lower().strip("[]") for h in self.allowed_hosts)}
        if self.host not in WILDCARD_BINDS:
            names.add(self.host.lower().strip("[]"))
        return frozenset(names)


def _cached_models() -> tuple[str, ...]:
    """Built-in models whose weights are in the cache right now."""
    from alphacut.runtime.weights import cached_path

    return tuple(spec.name for spec in list_models() if cached_path(spec) is not None)
