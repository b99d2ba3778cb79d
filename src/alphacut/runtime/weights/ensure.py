"""Find or fetch a model's weights: the one entry point runs use (``ensure_weights``).

A run with its weights in place only stats files here; the fetchers (and the network, TLS
and archive modules they need) are imported when a download is needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from alphacut.errors import OfflineError, WeightsError
from alphacut.models.spec import ModelSpec
from alphacut.runtime.weights.cache import cache_dir, cache_target, sweep_stale_temps

if TYPE_CHECKING:
    from alphacut.runtime.weights.http import Progress

_TRUTHY = frozenset({"1", "true", "yes", "on"})


def cached_path(spec: ModelSpec) -> Path | None:
    """The cache file of ``spec`` (or a user model's own file), if present."""
    if spec.local_path:
        own = Path(spec.local_path)
        return own if own.is_file() else None
    path = cache_dir() / spec.filename
    return path if path.is_file() else None


def ensure_weights(
    spec: ModelSpec,
    *,
    progress: Progress | None = None,
    offline: bool | None = None,
    retries: int = 3,
) -> Path:
    """Path of the verified weights of ``spec``, fetching them first if needed.

    Sources are tried in order; each is retried up to ``retries`` more times on network
    errors or truncation. ``offline=None`` reads ``ALPHACUT_OFFLINE``.
    Raises OfflineError (missing and offline) or WeightsError (every source failed).
    """
    found = cached_path(spec)
    if found is not None:
        return found
    if spec.local_path:
        raise WeightsError(f"model file of {spec.name!r} not found: {spec.local_path}")
    target = cache_target(spec)
    if offline is None:
        offline = env_flag("ALPHACUT_OFFLINE")
    if offline:
        raise OfflineError(_offline_message(spec, target))
    if spec.sha256 is None and not env_flag("ALPHACUT_ALLOW_UNPINNED"):
        raise WeightsError(
            f"model {spec.name!r} has no pinned sha256, so its download cannot be verified; "
            "set ALPHACUT_ALLOW_UNPINNED=1 to fetch it anyway (the hash seen is recorded in "
            f"{target}.sha256). Sources:\n{_list_sources(spec)}"
        )
    from alphacut.runtime.weights.download import download

    sweep_stale_temps(target.parent)
    download(spec, target, progress=progress, retries=retries)
    return target


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to 1/true/yes/on."""
    return os.environ.get(name, "").strip().lower() in _TRUTHY


def _list_sources(spec: ModelSpec) -> str:
    return "\n".join(f"  - {source.describe()}" for source in spec.sources) or "  (none)"


def _offline_message(spec: ModelSpec, target: Path) -> str:
    pin = f"sha256 {spec.sha256}" if spec.sha256 else "unpinned"
    return (
        f"the weights of model {spec.name!r} are not in the cache and ALPHACUT_OFFLINE forbids "
        f"downloading them.\nExpected file: {target} ({pin})\nSources:\n{_list_sources(spec)}\n"
        f"To get it: run `alphacut models pull {spec.name}` on a connected machine and copy the "
        f"file to {target}, or unset ALPHACUT_OFFLINE."
    )
