"""The card tools in on-device mode: a drawn box runs the model on the crop in the page (no
request carries the image), and touch-up strokes say they need the server instead of sending."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from server_helpers import alpha_of
from test_ondevice_page import browser, open_page, site  # noqa: F401  (module fixtures)
from web_fixtures import METADATA, WEB_MARKS, assert_only_static_gets, browser_context

from helpers import ROOT, iou_outside_band

sys.path.insert(0, str(ROOT / "tests" / "server"))
from test_page_roi import SIZE, drag_box, two_pets

pytestmark = WEB_MARKS


def test_a_box_on_device_keeps_only_the_boxed_pet_and_sends_nothing(
        browser: Any, site: str, tmp_path: Path) -> None:  # noqa: F811
    context = browser_context(browser)
    page = open_page(context, site)
    assert page.eval_on_selector("input[name=mode]:checked", "e => e.value") == "device"
    photo, truth = two_pets(tmp_path)
    page.set_input_files("#files", str(photo))
    page.wait_for_selector(".card[data-status=done] .download:not([hidden])", timeout=180_000)
    drag_box(page, 0.52, 0.01, 0.99, 0.99)
    page.wait_for_selector(".card[data-roi][data-status=done]", timeout=120_000)
    page.wait_for_selector(".card .download:not([hidden])", timeout=30_000)
    with page.expect_download() as info:
        page.click(".card .download")
    alpha = alpha_of(Path(info.value.path()).read_bytes())
    assert alpha.shape == truth.shape
    assert alpha[:, : SIZE[0]].max() == 0.0  # the left pet is outside the box
    assert iou_outside_band(alpha, truth) >= 0.8
    assert_only_static_gets(page, site, photo.read_bytes(), METADATA)
    context.close()


def test_strokes_on_device_warn_instead_of_uploading(browser: Any, site: str,  # noqa: F811
                                                     tmp_path: Path) -> None:
    context = browser_context(browser)
    page = open_page(context, site)
    photo, _ = two_pets(tmp_path)
    page.set_input_files("#files", str(photo))
    page.wait_for_selector(".card[data-status=done] .download:not([hidden])", timeout=180_000)
    page.click(".card .brush-toggle")
    box = page.eval_on_selector(".card .brush-layer", "e => { const r = e.getBoundingClientRect();"
                                " return {x: r.left, y: r.top, w: r.width, h: r.height}; }")
    page.mouse.move(box["x"] + 0.2 * box["w"], box["y"] + 0.5 * box["h"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.3 * box["w"], box["y"] + 0.5 * box["h"], steps=5)
    page.mouse.up()
    page.click(".card .brush-apply")
    page.wait_for_selector(".card .warning:not([hidden])", timeout=10_000)
    assert "server" in page.inner_text(".card .warning")
    assert not [r for r in page.requests if r[0] == "POST"]
    context.close()
