"""What one server app shares between requests: settings, limiter, metrics, and engines.

An engine is made once per model and model passes (an ensemble or flip is another set of
passes) and shared by every request (ONNX Runtime sessions are thread-safe). Every model a
request would run, partners included, must be on the server's allowlist; names are checked
before they reach the model registry, so no client value is ever read as a path.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alphacut.config import Config
from alphacut.engine import Engine
from alphacut.errors import ModelNotServed
from alphacut.interfaces.server.limits import Limiter, UploadBudget
from alphacut.interfaces.server.metrics import Metrics
from alphacut.interfaces.server.settings import MIB, ServerSettings
from alphacut.interfaces.server.upload import BodyLimits
from alphacut.interfaces.server.weights import require_weights

STATIC_DIR = Path(__file__).resolve().parent / "static"
MODEL_OPTIONS = ("model", "ensemble")


class ServerState:
    """Everything one app shares between requests."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.limiter = Limiter(settings.concurrency, settings.queue, settings.timeout)
        self.metrics = Metrics(lambda: (self.limiter.waiting, self.limiter.in_flight),
                               self.loaded_models)
        self._engines: dict[tuple[Any, ...], Engine] = {}
        self._lock = threading.Lock()
        budget = UploadBudget(settings.upload_budget_bytes or 128 * MIB)
        self.body_limits = BodyLimits(settings.max_upload_bytes, settings.body_timeout, budget)
        self._ready: set[Any] = set()  # specs whose weights were found verified in the cache

    def config(self, options: dict[str, Any]) -> Config:
        """The request's Config from typed client options; every model it names is checked
        against the allowlist first."""
        self.check_models(options)
        defaults = {"model": self.settings.model, "threads": self.settings.threads,
                    "max_pixels": self.settings.max_pixels}
        return Config.build(**{**defaults, **options})

    def check_models(self, options: dict[str, Any]) -> None:
        """``model`` and ``ensemble`` name only models this server serves (or auto/none)."""
        names = [str(options["model"])] if options.get("model") else []
        ensemble = options.get("ensemble")
        if ensemble:
            parts = ensemble.split(",") if isinstance(ensemble, str) else list(ensemble)
            names += [n.strip() for n in parts if n.strip().lower() not in ("auto", "none", "off")
                      and n.strip()]
        for name in names:
            if name not in self.settings.models:
                raise ModelNotServed(f"model {name!r} is not served here; choose one of: "
                                    f"{', '.join(self.settings.models)}")

    def engine(self, options: dict[str, Any]) -> Engine:
        """The shared Engine for the request's model and passes; sessions load lazily."""
        config = self.config(options)
        base = Config.build(model=config.model, threads=self.settings.threads,
                            max_pixels=self.settings.max_pixels, ensemble=config.refine.ensemble,
                            tta_flip=config.refine.tta_flip)
        probe = Engine(base)
        for model_pass in probe.passes:
            if model_pass.spec.name not in self.settings.models:
                raise ModelNotServed(
                    f"this request would also run {model_pass.spec.name!r} (ensemble/preset "
                    f"partner), which is not served here; served: "
                    f"{', '.join(self.settings.models)}")
        key = (probe.spec, probe.passes)
        with self._lock:
            engine = self._engines.setdefault(key, probe)
        self._check_weights(engine)
        return engine

    def _check_weights(self, engine: Engine) -> None:
        """503 ``weights_missing`` unless every pass's weights are in the cache (no fetch)."""
        specs = {p.spec for p in engine.passes} - self._ready
        if specs:
            require_weights(specs)
            self._ready |= specs

    def presets_for(self, name: str) -> list[str]:
        """The presets whose every model pass this server serves, for model ``name``."""
        from alphacut.config import PRESETS
        from alphacut.engine.passes import plan_passes
        from alphacut.models.registry import get_spec

        spec = get_spec(name)
        return [p for p in PRESETS if all(
            mp.spec.name in self.settings.models
            for mp in plan_passes(spec, Config.build(model=name, preset=p).refine))]

    @staticmethod
    def loaded_models() -> list[str]:
        """Models with a live session (sessions are shared process-wide)."""
        from alphacut.runtime.session import loaded_models

        return loaded_models()
