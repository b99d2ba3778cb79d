"""Weights for the models a server serves: fetched or verified at start-up, never at request
time.

``alphacut serve`` calls ``prepare_weights`` before it listens (a download shows progress);
a request only ever checks the cache (``require_weights``), so nothing a client sends makes
the server touch the network. A model whose weights are missing answers 503
``weights_missing`` with a message that names no server path and no hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from alphacut.errors import WeightsError, WeightsMissing
from alphacut.models.registry import get_spec
from alphacut.models.spec import ModelSpec

Progress = Callable[[str, int, "int | None"], None]


def prepare_weights(models: Iterable[str], *, progress: Progress | None = None,
                    offline: bool | None = None) -> dict[str, str]:
    """Verify (fetching when allowed) every model's weights; ``{name: problem}`` for those
    that are not ready. ``offline=None`` follows ``ALPHACUT_OFFLINE``."""
    from alphacut.runtime.weights import ensure_weights

    problems: dict[str, str] = {}
    for name in models:
        try:
            ensure_weights(get_spec(name), progress=progress, offline=offline)
        except WeightsError as exc:
            problems[name] = str(exc)
    return problems


def require_weights(specs: Iterable[ModelSpec]) -> None:
    """Raise ``WeightsMissing`` unless every spec's weights are verified in the cache; never
    fetches anything."""
    from alphacut.runtime.weights import ensure_weights

    for spec in specs:
        try:
            ensure_weights(spec, offline=True)
        except WeightsError:
            raise WeightsMissing(
                f"the weights of model {spec.name!r} are not installed on this server; ask "
                f"its operator to run `alphacut models pull {spec.name}` and restart it, or "
                "choose another model from /v1/models") from None
