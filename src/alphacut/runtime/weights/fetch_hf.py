"""Fetcher for ``hf_hub`` sources: one file of a Hugging Face repository at a revision."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from alphacut.models.spec import Source
from alphacut.runtime.weights.http import Progress, download_to
from alphacut.runtime.weights.registries import hf_endpoint


def hf_url(source: Source) -> str:
    """``<endpoint>/<repo>/resolve/<revision>/<member>`` (revision ``main`` if unset)."""
    member = urllib.parse.quote(source.member)
    revision = source.version or "main"
    return f"{hf_endpoint().rstrip('/')}/{source.package}/resolve/{revision}/{member}"


def fetch(source: Source, dest: Path, label: str, progress: Progress | None) -> None:
    """Write the hub file ``source.member`` of repository ``source.package`` to ``dest``."""
    download_to(hf_url(source), dest, label, progress)
