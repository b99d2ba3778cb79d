"""On-device mode in Debian Chromium: the model runs in the page, no request carries the
image, the cut-out is the engine's (fast preset), and a second visit downloads no model."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import web_fixtures
from PIL import Image
from server_helpers import alpha_of, live_server
from web_fixtures import (
    METADATA,
    WEB_MARKS,
    assert_only_static_gets,
    browser_context,
    linked_home,
    record,
    web_settings,
)

from helpers import PETS, ROOT, iou_outside_band, truth_for

pytestmark = WEB_MARKS
browser = web_fixtures.browser  # Debian's Chromium, one per module
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
GOLDEN = json.loads((ROOT / "tests" / "golden" / "vectors.json").read_text())
PET = PETS[0]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        home = linked_home(Path(tmp) / "home")
        mp.setenv("ALPHACUT_HOME", str(home))
        mp.setenv("ALPHACUT_OFFLINE", "1")
        with live_server(web_settings()) as url:
            yield url


@pytest.fixture(scope="module")
def fast_alpha(u2netp_remover) -> Any:  # type: ignore[no-untyped-def]
    """The engine's alpha, fast preset, ``float32 (H, W)`` in [0, 1], for a path."""
    from alphacut.api import Remover

    remover = Remover(model="u2netp", preset="fast")
    return lambda path: remover.remove(path).alpha


def open_page(context: Any, url: str) -> Any:
    page = record(context.new_page())
    page.add_init_script("""
      window.__states = [];
      new MutationObserver(() => document.querySelectorAll('.card .state').forEach(
        (e) => { const t = e.textContent;
                 if (window.__states.at(-1) !== t) window.__states.push(t); }))
        .observe(document, { subtree: true, childList: true, characterData: true });
    """)
    page.goto(url)
    page.wait_for_selector("body[data-ready]", state="attached")
    return page


def cut_out(page: Any, image: Path, nth: int = 1) -> bytes:
    page.set_input_files("#files", str(image))
    page.wait_for_selector(f".card:nth-child({nth})[data-status=done]", timeout=180_000)
    page.wait_for_selector(f".card:nth-child({nth}) .download:not([hidden])", timeout=30_000)
    with page.expect_download() as info:
        page.click(f".card:nth-child({nth}) .download")
    return Path(info.value.path()).read_bytes()


def test_on_device_is_the_default_sends_no_image_and_matches_the_engine(
        browser, site, fast_alpha) -> None:  # type: ignore[no-untyped-def]
    context = browser_context(browser)
    page = open_page(context, site)
    assert page.eval_on_selector("input[name=mode]:checked", "e => e.value") == "device"
    assert "sends nothing" in page.inner_text("#mode-note")
    assert page.evaluate("crossOriginIsolated") is True
    png = cut_out(page, PET)
    assert_only_static_gets(page, site, PET.read_bytes(), METADATA)
    assert not [r for r in page.requests if r[0] == "POST"]
    cut = Image.open(io.BytesIO(png))
    assert cut.mode == "RGBA" and cut.size == Image.open(PET).size
    mine = alpha_of(png)
    engine = fast_alpha(PET)
    assert float(np.abs(mine - engine).mean()) <= 2 / 255
    truth = truth_for(PET)
    assert abs(iou_outside_band(mine, truth) - iou_outside_band(engine, truth)) <= 0.005
    states = page.evaluate("window.__states")
    assert any(s.startswith("Downloading model u2netp") for s in states), states
    assert "on device" in page.inner_text(".card .state")
    context.close()


def test_second_visit_downloads_no_model_bytes(browser, site) -> None:  # type: ignore[no-untyped-def]
    context = browser_context(browser)
    first = open_page(context, site)
    cut_out(first, PETS[1])
    assert any(url.endswith("/web/models/u2netp.onnx") for _, url, _ in first.requests)
    first.close()
    again = open_page(context, site)
    cut_out(again, PETS[1])
    model_bodies = [r for r in again.responses if r.url.endswith(".onnx")]
    assert model_bodies == []
    assert any("from this browser's cache" in s for s in again.evaluate("window.__states"))
    context.close()


def test_in_page_alpha_equals_the_engine_on_the_golden_image(
        browser, site, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    """Same pixels in (no JPEG decoder between): mean |Δα| ≤ 1/255 against engine fast."""
    from alphacut.api import Remover

    g = GOLDEN["image"]
    rgb = np.asarray(g["rgb"], dtype=np.uint8).reshape(g["height"], g["width"], 3)
    big = np.asarray(Image.fromarray(rgb).resize((240, 170), Image.NEAREST))
    engine = Remover(model="u2netp", preset="fast").remove(big).alpha
    context = browser_context(browser)
    page = open_page(context, site)
    got = page.evaluate("""async ([rgb, W, H]) => {
      const { DeviceModel } = await import("/static/ondevice/client.js");
      const rgba = new Uint8ClampedArray(W * H * 4);
      for (let i = 0; i < W * H; i++) rgba.set([rgb[3*i], rgb[3*i+1], rgb[3*i+2], 255], 4*i);
      const model = new DeviceModel();
      await model.load("u2netp");
      return Array.from((await model.alpha(rgba, W, H)).alpha);
    }""", [big.reshape(-1).tolist(), big.shape[1], big.shape[0]])
    mine = np.asarray(got, dtype=np.float32).reshape(engine.shape)
    assert float(np.abs(mine - engine).mean()) <= 1 / 255
    assert float(np.abs(mine - engine).max()) <= 8 / 255
    context.close()


def test_preprocess_sizes_follow_the_engine(browser, site) -> None:  # type: ignore[no-untyped-def]
    from alphacut.core.preprocess import model_input_size
    from alphacut.models.registry import get_spec

    cases = [(name, h, w) for name in ("u2netp", "modnet", "isnet-general-q")
             for h, w in ((500, 358), (3000, 4000), (17, 24), (720, 1280), (1000, 1000))]
    specs = {n: get_spec(n).to_dict() for n in ("u2netp", "modnet", "isnet-general-q")}
    context = browser_context(browser)
    page = open_page(context, site)
    got = page.evaluate("""async ([cases, specs]) => {
      const { modelInputSize } = await import("/static/ondevice/preprocess.js");
      return cases.map(([n, h, w]) => modelInputSize(specs[n], h, w));
    }""", [cases, specs])
    want = [list(model_input_size(get_spec(n), h, w)) for n, h, w in cases]
    assert got == want
    context.close()


@pytest.mark.parametrize("size", [(400, 267), (267, 400), (500, 333), (300, 330), (160, 90)])
def test_page_tensor_equals_the_engine_tensor(browser, site, size) -> None:  # type: ignore[no-untyped-def]
    """Every resize case of core.preprocess (area, linear, area with one side growing)."""
    from alphacut.core.preprocess import to_tensor
    from alphacut.models.registry import get_spec

    g = GOLDEN["image"]
    rgb = np.asarray(g["rgb"], dtype=np.uint8).reshape(g["height"], g["width"], 3)
    rng = np.random.default_rng(size[0])
    big = np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC)).astype(np.int16)
    big = np.clip(big + rng.integers(-20, 21, big.shape), 0, 255).astype(np.uint8)
    spec = get_spec("u2netp")
    want = to_tensor(big, spec)
    context = browser_context(browser)
    page = open_page(context, site)
    got = page.evaluate("""async ([rgb, W, H, spec]) => {
      const { tensorFor } = await import("/static/ondevice/preprocess.js");
      const rgba = new Uint8ClampedArray(W * H * 4);
      for (let i = 0; i < W * H; i++) rgba.set([rgb[3*i], rgb[3*i+1], rgb[3*i+2], 255], 4*i);
      const t = tensorFor(rgba, W, H, spec);
      return { shape: t.shape, data: Array.from(t.data) };
    }""", [big.reshape(-1).tolist(), size[0], size[1], spec.to_dict()])
    assert got["shape"] == list(want.shape)
    mine = np.asarray(got["data"], dtype=np.float32).reshape(want.shape)
    assert float(np.abs(mine - want).max()) <= 1e-5
    context.close()


def test_missing_runtime_offers_the_other_modes(browser, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    from alphacut.runtime.weights import cached_path

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        home = Path(tmp)
        (home / "models").mkdir()
        real = cached_path(u2netp_remover.spec)
        assert real is not None
        (home / "models" / real.name).symlink_to(real)
        mp.setenv("ALPHACUT_HOME", str(home))
        mp.setenv("ALPHACUT_OFFLINE", "1")
        with live_server(web_settings()) as url:
            context = browser_context(browser)
            page = open_page(context, url)
            assert page.eval_on_selector("input[name=mode]:checked", "e => e.value") == "mask"
            assert page.is_disabled("input[name=mode][value=device]")
            assert "runtime" in page.inner_text("#device-note")
            context.close()


def test_copyleft_model_asks_before_download(browser, u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    """AGPL weights: the page says sending them is distribution and asks; refused: no bytes."""
    models = ("u2netp", "isnet-general-q")
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        home = linked_home(Path(tmp) / "home", models)
        mp.setenv("ALPHACUT_HOME", str(home))
        mp.setenv("ALPHACUT_OFFLINE", "1")
        with live_server(web_settings(models)) as url:
            context = browser_context(browser)
            page = open_page(context, url)
            labels = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
            assert labels == ["u2netp", "isnet-general-q"]
            asked: list[str] = []
            page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
            page.select_option("#model", "isnet-general-q")
            page.set_input_files("#files", str(PET))
            page.wait_for_selector(".card[data-status=failed]", timeout=60_000)
            assert asked and "AGPL-3.0" in asked[0] and "distributes" in asked[0]
            assert "Not downloaded" in page.inner_text(".card .state")
            assert not any("isnet-general-q.onnx" in url for _, url, _ in page.requests)
            context.close()
