"""Fetcher for ``url`` sources: a plain file over http(s) or ``file://``."""

from __future__ import annotations

from pathlib import Path

from alphacut.models.spec import Source
from alphacut.runtime.weights.http import Progress, download_to


def fetch(source: Source, dest: Path, label: str, progress: Progress | None) -> None:
    """Write the file at ``source.url`` to ``dest``."""
    download_to(source.url, dest, label, progress)
