"""The web page, driven in headless Debian Chromium with Playwright (Python).

Privacy mode (the default) must upload only a downsized copy and still give a full-resolution
cut-out that matches the ground truth; server mode must send the original to /v1/remove.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image
from server_helpers import alpha_of, live_server

from alphacut.interfaces.server.settings import ServerSettings
from helpers import PETS, iou_outside_band, truth_for

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

PET = PETS[0]


@pytest.fixture(scope="module")
def page_url(u2netp_remover) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model="u2netp", models=("u2netp", "u2net"), queue=4)
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, page_url) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1100, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    page.requests = []  # every request the page makes: (method, url, body)
    page.on("request", lambda r: page.requests.append((r.method, r.url, r.post_data_buffer)))
    page.goto(page_url)
    page.wait_for_selector("#model option[value=u2netp]", state="attached")
    yield page
    context.close()


def add_and_wait(page: Any, image: Path, done: int = 1) -> None:
    page.set_input_files("#files", str(image))
    page.wait_for_selector(f".card:nth-child({done})[data-status=done]", timeout=90_000)


def download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def posts(page: Any) -> list[tuple[str, bytes | None]]:
    return [(urlparse(url).path, body) for method, url, body in page.requests
            if method == "POST"]


def test_privacy_mode_uploads_only_a_small_copy_and_cuts_out_on_device(page, page_url) -> None:
    original = PET.read_bytes()
    width, height = Image.open(PET).size
    add_and_wait(page, PET)
    png = download(page, ".card .download")
    cutout = Image.open(io.BytesIO(png))
    assert cutout.mode == "RGBA" and cutout.size == (width, height)
    assert iou_outside_band(alpha_of(png), truth_for(PET)) >= 0.8

    uploads = posts(page)
    assert [path for path, _ in uploads] == ["/v1/mask"]
    sent = uploads[0][1]
    assert sent is not None and len(sent) < len(original)
    assert original not in sent and original[:4096] not in sent
    small = Image.open(io.BytesIO(sent))
    assert max(small.size) == 320 and small.width < width and small.height < height
    assert all(url.startswith(page_url) or url.startswith(("blob:", "data:"))
               for _, url, _ in page.requests)


def test_zip_of_all_results_and_local_background(page) -> None:
    add_and_wait(page, PETS[1], done=1)
    add_and_wait(page, PETS[2], done=2)
    archive = zipfile.ZipFile(io.BytesIO(download(page, "#zip")))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == [f"{PETS[1].stem}-cutout.png", f"{PETS[2].stem}-cutout.png"]
    first = Image.open(io.BytesIO(archive.read(names[0])))
    assert first.mode == "RGBA" and first.size == Image.open(PETS[1]).size

    uploads_before = len(posts(page))
    page.click("text=Colour")
    page.wait_for_function("document.querySelector('.card .download').href !== ''")
    page.wait_for_timeout(500)
    over_white = Image.open(io.BytesIO(download(page, ".card .download")))
    assert np.asarray(over_white.getchannel("A")).min() == 255
    assert np.asarray(over_white.convert("RGB"))[0, 0].tolist() == [255, 255, 255]
    assert len(posts(page)) == uploads_before  # re-composited on the device


def test_server_mode_sends_the_original(page) -> None:
    page.uncheck("#privacy", force=True)
    assert "Server mode" in page.inner_text("#mode-note")
    add_and_wait(page, PETS[3])
    uploads = posts(page)
    assert [path for path, _ in uploads] == ["/v1/remove"]
    assert uploads[0][1] == PETS[3].read_bytes()
    png = download(page, ".card .download")
    assert iou_outside_band(alpha_of(png), truth_for(PETS[3])) >= 0.8


def test_model_picker_shows_licences(page) -> None:
    options = page.eval_on_selector_all("#model option", "els => els.map(e => e.textContent)")
    assert any("u2netp" in o and "Apache-2.0" in o for o in options)
    assert "Apache-2.0" in page.inner_text("#model-info")
