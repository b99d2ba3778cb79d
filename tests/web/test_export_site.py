"""``alphacut export-web``: the static site works from `python -m http.server` with no alphacut
server running: no request carries the image, the cut-out is the engine's, and
``alphacut.mjs``'s ``removeBackground`` returns the full-size PNG."""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import web_fixtures
from PIL import Image
from server_helpers import alpha_of, serving
from web_fixtures import (
    WEB_MARKS,
    assert_only_static_gets,
    browser_context,
    linked_home,
    record,
)

from helpers import PETS

pytestmark = WEB_MARKS
browser = web_fixtures.browser  # Debian's Chromium, one per module
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
PET = PETS[2]
TEST_PAGE = """<!doctype html><meta charset="utf-8"><title>uses alphacut.mjs</title>
<script type="module">
  import { removeBackground } from "./alphacut.mjs";
  window.cut = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const seen = [];
    const png = await removeBackground(new Blob([bytes], { type: "image/jpeg" }),
                                       { onProgress: (f, t) => seen.push(f) });
    const buf = new Uint8Array(await png.arrayBuffer());
    let s = ""; for (const b of buf) s += String.fromCharCode(b);
    return { type: png.type, b64: btoa(s), progress: seen };
  };
  document.body.dataset.ready = "1";
</script><body></body>"""


@pytest.fixture(scope="module")
def exported() -> Iterator[Path]:
    from alphacut.interfaces.cli import main

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        home = linked_home(Path(tmp) / "home")
        mp.setenv("ALPHACUT_HOME", str(home))
        site = Path(tmp) / "site"
        assert main(["export-web", str(site), "--model", "u2netp", "--offline"]) == 0
        (site / "test.html").write_text(TEST_PAGE, encoding="utf-8")
        yield site


@pytest.fixture(scope="module")
def plain_url(exported) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The site from ``python -m http.server`` (no COOP/COEP: one thread)."""
    with serving(exported, "-m", "http.server", probe="/web/status.json") as url:
        yield url


def test_export_refuses_a_model_the_page_cannot_run(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from alphacut.interfaces.cli import main

    with pytest.raises(SystemExit):
        main(["export-web", str(tmp_path / "x"), "--model", "birefnet-general"])
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_the_site_has_its_parts(exported) -> None:  # type: ignore[no-untyped-def]
    for rel in ("index.html", "alphacut.mjs", "serve.py", "README.txt", "web/status.json",
                "web/ort/ort.wasm.min.mjs", "web/ort/ort-wasm-simd-threaded.wasm",
                "web/ort/NOTICE.txt", "web/models/u2netp.onnx", "web/models/u2netp.json",
                "web/models/u2netp.license.txt", "static/ondevice/worker.js"):
        assert (exported / rel).is_file(), rel
    assert "Apache-2.0" in (exported / "web/models/u2netp.license.txt").read_text()
    html = (exported / "index.html").read_text()
    assert '"/static/' not in html and "/docs" not in html
    assert "python -m http.server" in (exported / "README.txt").read_text()


def test_static_site_without_alphacut_sends_no_image(
        browser, plain_url, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    from alphacut.api import Remover

    page = record(browser_context(browser).new_page())
    page.goto(plain_url + "/")
    page.wait_for_selector("body[data-ready]", state="attached")
    assert page.eval_on_selector("input[name=mode]:checked", "e => e.value") == "device"
    assert page.is_hidden("input[name=mode][value=server] + span")
    page.set_input_files("#files", str(PET))
    page.wait_for_selector(".card[data-status=done]", timeout=180_000)
    page.wait_for_selector(".card .download:not([hidden])", timeout=30_000)
    with page.expect_download() as info:
        page.click(".card .download")
    png = Path(info.value.path()).read_bytes()
    assert_only_static_gets(page, plain_url, PET.read_bytes())
    assert not any("/v1/" in url for _, url, _ in page.requests)
    mine = alpha_of(png)
    engine = Remover(model="u2netp", preset="fast").remove(PET).alpha
    assert mine.shape == engine.shape
    assert float(np.abs(mine - engine).mean()) <= 2 / 255
    page.context.close()


def test_remove_background_from_another_page(browser, plain_url) -> None:  # type: ignore[no-untyped-def]
    page = record(browser_context(browser).new_page())
    page.goto(plain_url + "/test.html")
    page.wait_for_selector("body[data-ready]", state="attached")
    out = page.evaluate("(b64) => window.cut(b64)", base64.b64encode(PET.read_bytes()).decode())
    assert out["type"] == "image/png"
    cut = Image.open(io.BytesIO(base64.b64decode(out["b64"])))
    assert cut.format == "PNG" and cut.mode == "RGBA" and cut.size == Image.open(PET).size
    assert out["progress"][-1] == 1 and out["progress"] == sorted(out["progress"])
    assert_only_static_gets(page, plain_url, PET.read_bytes())
    page.context.close()


def test_serve_py_enables_threads(browser, exported) -> None:  # type: ignore[no-untyped-def]
    with serving(exported, "serve.py", probe="/web/status.json") as url:
        head = httpx.get(url + "/web/ort/ort.wasm.min.mjs")
        assert head.headers["cross-origin-embedder-policy"] == "require-corp"
        assert head.headers["content-type"].startswith("text/javascript")
        page = browser_context(browser).new_page()
        page.goto(url + "/")
        assert page.evaluate("crossOriginIsolated") is True
        page.context.close()
