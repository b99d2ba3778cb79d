"""Find or fetch a model's weights: the one entry point runs use (``ensure_weights``).

A file found in the cache is verified before it is used: its sha256 (pinned, or recorded at
download for an unpinned model) is checked once per change of the file (see ``verify``). A
damaged cache file is moved aside and fetched again, or, offline, reported with what to do.
A user's own model file is checked against its spec's sha256, if the spec gives one.

A run with verified weights in place only stats and reads small files here; the fetchers (and
the network, TLS and archive modules they need) are imported when a download is needed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from alphacut.errors import OfflineError, WeightsError
from alphacut.models.spec import ModelSpec
from alphacut.runtime.weights import verify
from alphacut.runtime.weights.cache import (
    cache_dir,
    cache_target,
    corrupt_path,
    recorded_sha256,
    stamp_path,
    sweep_stale_temps,
    user_stamp_path,
)

if TYPE_CHECKING:
    from alphacut.runtime.weights.http import Progress

_TRUTHY = frozenset({"1", "true", "yes", "on"})


def cached_path(spec: ModelSpec) -> Path | None:
    """The cache file of ``spec`` (or a user model's own file), if present (not verified:
    cheap enough for listings; ``ensure_weights`` verifies before use)."""
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
    Raises OfflineError (missing or damaged, and offline) or WeightsError (a user file fails
    its spec's sha256, or every source failed).
    """
    if spec.local_path:
        return _user_file(spec)
    target = cache_target(spec)
    damage = _check_cached(spec, target)
    if damage is None:
        return target
    if offline is None:
        offline = env_flag("ALPHACUT_OFFLINE")
    if offline:
        raise OfflineError(_offline_message(spec, target, damage))
    if spec.sha256 is None and not env_flag("ALPHACUT_ALLOW_UNPINNED"):
        raise WeightsError(
            f"model {spec.name!r} has no pinned sha256, so its download cannot be verified; "
            "set ALPHACUT_ALLOW_UNPINNED=1 to fetch it anyway (the hash seen is recorded in "
            f"{target}.sha256). Sources:\n{_list_sources(spec)}"
        )
    from alphacut.runtime.weights.download import download

    sweep_stale_temps(target.parent)
    note = f"(the cached copy was damaged: {damage})" if damage else ""
    digest = download(spec, target, progress=progress, retries=retries, note=note)
    verify.remember(target, digest, stamp_path(target))
    with contextlib.suppress(OSError):
        corrupt_path(target).unlink()
    return target


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to 1/true/yes/on."""
    return os.environ.get(name, "").strip().lower() in _TRUTHY


def _check_cached(spec: ModelSpec, target: Path) -> str | None:
    """None if ``target`` is present and verified; else why not ("" if simply absent).

    A file that fails verification is moved to ``<target>.corrupt`` (replacing an older one).
    """
    if not target.is_file():
        return ""
    expected = spec.sha256.lower() if spec.sha256 else recorded_sha256(target)
    if expected is None:
        return None  # unpinned and fetched before hashes were recorded: nothing to check
    try:
        size = target.stat().st_size
        digest = verify.sha256_of(target, stamp_path(target))
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise WeightsError(f"cannot read the cached weights {target}: {exc}") from exc
    if digest == expected:
        return None
    problem = _damage(target, size, digest, expected, spec.size_bytes)
    verify.forget(target, stamp_path(target))
    aside = corrupt_path(target)
    try:
        os.replace(target, aside)
    except FileNotFoundError:  # another process moved it first
        pass
    except OSError as exc:
        raise WeightsError(f"{problem}; it could not be moved aside ({exc}): delete it and "
                           f"run `alphacut models pull {spec.name}`") from exc
    return f"{problem}; it was moved to {aside}"


def _user_file(spec: ModelSpec) -> Path:
    """A user's own model file, checked against its spec's sha256 when the spec gives one."""
    own = Path(str(spec.local_path))
    if not own.is_file():
        raise WeightsError(f"model file of {spec.name!r} not found: {spec.local_path}")
    if not spec.sha256:
        return own
    try:
        stamp: Path | None = user_stamp_path(own)
    except WeightsError:  # no writable cache: verify without a stamp
        stamp = None
    try:
        digest = verify.sha256_of(own, stamp)
    except OSError as exc:
        raise WeightsError(f"cannot read the model file {own}: {exc}") from exc
    expected = spec.sha256.strip().lower()
    if digest != expected:
        raise WeightsError(
            f"the model file {own} does not match the sha256 its spec gives: the file's is "
            f"{digest} ({own.stat().st_size:,} bytes), the spec's is {expected}. If you "
            "changed the model on purpose, put its new sha256 in the spec; otherwise restore "
            "the file."
        )
    return own


def _damage(path: Path, size: int, digest: str, expected: str, want_size: int | None) -> str:
    """What is wrong with a cache file whose sha256 is ``digest`` instead of ``expected``."""
    sizes = f"{size:,} bytes"
    if want_size is not None and size != want_size:
        sizes += f", expected {want_size:,}" + (": truncated" if size < want_size else "")
    return (f"the cached weights {path} failed verification: their sha256 is {digest}, "
            f"expected {expected} ({sizes})")


def _list_sources(spec: ModelSpec) -> str:
    return "\n".join(f"  - {source.describe()}" for source in spec.sources) or "  (none)"


def _offline_message(spec: ModelSpec, target: Path, damage: str) -> str:
    pin = f"sha256 {spec.sha256}" if spec.sha256 else "unpinned"
    state = (f"are damaged and ALPHACUT_OFFLINE forbids fetching them again.\n{damage}."
             if damage else "are not in the cache and ALPHACUT_OFFLINE forbids downloading them.")
    return (
        f"the weights of model {spec.name!r} {state}\nExpected file: {target} ({pin})\n"
        f"Sources:\n{_list_sources(spec)}\n"
        f"To get it: run `alphacut models pull {spec.name}` when online (or unset "
        f"ALPHACUT_OFFLINE), or copy a good file from a connected machine to {target}."
    )
