"""Fixtures for the web page tests: a live server and Debian Chromium driven by Playwright.

The server runs offline with its own model cache holding only u2netp (linked from the real
cache), so a model or quality whose weights are missing fails for real, as on a fresh server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from server_helpers import live_server

from alphacut.interfaces.server.settings import ServerSettings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING = "isnet-general-q"  # a model the page's server lists but cannot run
PARTNER = "isnet-general"  # served, not cached: u2netp's "best" partner (503 weights_error)

PAGE_MARKS = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")


@pytest.fixture(scope="module")
def page_url(u2netp_remover, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from alphacut.runtime.weights import cached_path

    home = tmp_path_factory.mktemp("alphacut-home")
    (home / "models").mkdir()
    real = cached_path(u2netp_remover.spec)
    assert real is not None
    (home / "models" / real.name).symlink_to(real)
    settings = ServerSettings(model="u2netp", models=("u2netp", MISSING, PARTNER), queue=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALPHACUT_HOME", str(home))
        mp.setenv("ALPHACUT_OFFLINE", "1")
        with live_server(settings) as url:
            yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(browser: Any, url: str, **context: Any) -> Any:
    """A fresh page on ``url`` once its controls are built; ``page.requests`` records all."""
    options = {"viewport": {"width": 1100, "height": 900}, "accept_downloads": True, **context}
    page = browser.new_context(**options).new_page()
    page.requests = []  # every request the page makes: (method, url, body)
    page.on("request", lambda r: page.requests.append((r.method, r.url, r.post_data_buffer)))
    page.goto(url)
    page.wait_for_selector("body[data-ready]", state="attached")
    return page


@pytest.fixture()
def page(browser, page_url) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    page = open_page(browser, page_url)
    yield page
    page.context.close()


def add_and_wait(page: Any, image: Path | list[Path], done: int = 1) -> None:
    files = [str(p) for p in image] if isinstance(image, list) else str(image)
    page.set_input_files("#files", files)
    page.wait_for_selector(f".card:nth-child({done})[data-status=done]", timeout=90_000)
    wait_rendered(page)


def wait_rendered(page: Any) -> None:
    """Until no card is rendering (every shown download is the current render)."""
    page.wait_for_selector(".card[data-status=done] .download:not([hidden])", timeout=30_000)
    page.wait_for_selector("#zip:not([disabled])", timeout=30_000)


def download(page: Any, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def posts(page: Any) -> list[tuple[str, bytes | None]]:
    return [(urlparse(url).path, body) for method, url, body in page.requests
            if method == "POST"]
