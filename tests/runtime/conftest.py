"""Fixtures of the weights tests: a local HTTP server, an environment that points every
registry setting and the cache at nothing real, and copies of the real u2netp weights."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_registry import FakeServer, Handler

from alphacut.errors import WeightsError
from alphacut.models.registry import get_spec
from alphacut.runtime.weights import cache_dir, cached_path, ensure_weights
from alphacut.runtime.weights import http as weights_http


@pytest.fixture
def server() -> Iterator[FakeServer]:
    from http.server import ThreadingHTTPServer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    app = FakeServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.app = app  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield app
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHACUT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for var in (
        "ALPHACUT_OFFLINE", "ALPHACUT_ALLOW_UNPINNED", "ALPHACUT_PYPI_INDEX", "PIP_INDEX_URL",
        "PIP_CONFIG_FILE", "ALPHACUT_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry",
        "NPM_CONFIG_USERCONFIG", "npm_config_userconfig", "ALPHACUT_HF_ENDPOINT", "HF_ENDPOINT",
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(weights_http, "BACKOFF_S", 0.0)


@pytest.fixture(scope="session")
def real_u2netp() -> Path:
    """The real u2netp file in the user's cache (fetched if missing); never written to."""
    try:
        return cached_path(get_spec("u2netp")) or ensure_weights(get_spec("u2netp"))
    except WeightsError as exc:
        pytest.skip(f"u2netp weights unavailable here: {exc}")


@pytest.fixture
def cached_copy(real_u2netp: Path) -> Path:
    """A copy of the real u2netp file, where the temporary cache keeps it."""
    target = cache_dir() / get_spec("u2netp").filename
    shutil.copyfile(real_u2netp, target)
    return target
