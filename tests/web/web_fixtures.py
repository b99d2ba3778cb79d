"""A server on loopback with the web runtime and u2netp in its (linked) cache; a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from alphacut.interfaces.server.settings import ServerSettings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WEB_MARKS = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]
REAL_ENV = {name: os.environ.get(name) for name in ("ALPHACUT_HOME", "ALPHACUT_OFFLINE")}
"""The cache settings the session started with: where linked homes link from."""
STATIC_SUFFIXES = (".html", ".js", ".mjs", ".css", ".wasm", ".onnx", ".json", ".txt", "/")
METADATA = ("/v1/models", "/v1/options")  # the other modes' choices (JSON, no body sent)


def linked_home(home: Path, models: tuple[str, ...] = ("u2netp",)) -> Path:
    """An ALPHACUT_HOME whose cache links the real cache's weights and web runtime (fetching
    them first if this machine has never had them)."""
    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights
    from alphacut.web.runtime import ensure_runtime

    with pytest.MonkeyPatch.context() as mp:
        for name, value in REAL_ENV.items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        reals = [ensure_weights(get_spec(name)) for name in models]
        runtime = ensure_runtime()
    (home / "models").mkdir(parents=True, exist_ok=True)
    for real in reals:
        (home / "models" / real.name).symlink_to(real)
    folder = home / "web" / next(iter(runtime.values())).parent.name
    folder.mkdir(parents=True)
    for name, path in runtime.items():
        (folder / name).symlink_to(path)
    return home


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def web_settings(models: tuple[str, ...] = ("u2netp",)) -> ServerSettings:
    return ServerSettings(model=models[0], models=models, queue=4, preload=False)


def record(page: Any) -> Any:
    """Every request of ``page`` in ``page.requests``: (method, url, body bytes or None)."""
    page.requests = []
    page.responses = []
    page.on("request", lambda r: page.requests.append((r.method, r.url, r.post_data_buffer)))
    page.on("response", lambda r: page.responses.append(r))
    return page


def assert_only_static_gets(page: Any, origin: str, image: bytes,
                            metadata: tuple[str, ...] = ()) -> None:
    """Only same-origin GETs of static assets (and of ``metadata`` paths); no POST; no image
    bytes in any body."""
    for method, url, body in page.requests:
        if url.startswith(("blob:", "data:")):
            continue
        assert method == "GET", (method, url)
        assert url.startswith(origin + "/"), url
        path = urlparse(url).path
        assert path.endswith(STATIC_SUFFIXES) or path in metadata, path
        assert not body or image[:4096] not in body, url


def browser_context(browser: Any, **options: Any) -> Any:
    return browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True,
                               **options)
