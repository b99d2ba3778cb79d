"""The page's touch-up brush in real Chromium: a remove stroke over a background region the
model got wrong, applied, clears that region; undo/redo change the stroke list."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np
import page_fixtures
from page_fixtures import PAGE_MARKS, add_and_wait, download, posts, wait_rendered
from server_helpers import alpha_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))
from evaldata_locator import evaldata_set

pytestmark = PAGE_MARKS
browser, page_url, page = page_fixtures.browser, page_fixtures.page_url, page_fixtures.page
PHOTO = "GT25"  # u2netp's matte keeps a large patch of background above the subject's left


def _wrong_blob(alpha: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The largest region the matte keeps where the truth is clear: ``bool (H, W)``."""
    wrong = ((alpha > 0.5) & (truth < 0.05)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(wrong, 8)
    assert count > 1, "the model no longer gets this photo wrong: pick another"
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _line_inside(blob: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    """A horizontal line through the blob's deepest point, well inside it, and a pen width
    (photo pixels) that keeps the stroke inside."""
    depth = cv2.distanceTransform(blob.astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    pen = float(min(12.0, depth[y, x]))
    row = np.flatnonzero(depth[y] >= pen)
    left, right = max(int(row.min()), x - 40), min(int(row.max()), x + 40)
    return (float(left), float(y)), (float(right), float(y)), pen


def _to_screen(page: Any, size: tuple[int, int], point: tuple[float, float]
               ) -> tuple[float, float, float]:
    """Photo pixel -> client coordinates on the brush layer, and screen px per photo px."""
    x, y, w, h = page.eval_on_selector(
        ".card .brush-layer", "el => { const r = el.getBoundingClientRect();"
        " return [r.x, r.y, r.width, r.height]; }")
    width, height = size
    s = min(w / width, h / height)
    return x + (w - width * s) / 2 + point[0] * s, y + (h - height * s) / 2 + point[1] * s, s


def _strokes(page: Any) -> int:
    return int(page.get_attribute(".card .brush-tools", "data-strokes"))


def test_a_remove_stroke_clears_a_wrong_region_and_undo_redo_edit_the_list(page) -> None:
    folder = evaldata_set("alphamatting_train_lowres")
    photo = folder / "images" / f"{PHOTO}.png"
    truth = cv2.imread(str(folder / "masks" / f"{PHOTO}.png"), cv2.IMREAD_GRAYSCALE) / 255.0
    page.check("input[name=mode][value=server]", force=True)  # full resolution on the server
    add_and_wait(page, photo)
    _, png = download(page, ".card .download")
    before = alpha_of(png)
    blob = _wrong_blob(before, truth)
    assert before[blob].mean() > 0.5
    start, end, pen = _line_inside(blob)

    page.click(".card .brush-toggle")
    page.click(".card .brush-remove")
    page.locator(".card .compare").scroll_into_view_if_needed()
    size = (before.shape[1], before.shape[0])
    x0, y0, s = _to_screen(page, size, start)
    x1, y1, _ = _to_screen(page, size, end)
    page.eval_on_selector(".card .brush-size", "(el, v) => { el.value = String(v); }",
                          max(2, round(pen * s)))
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.className", [x0, y0])
    assert hit == "brush-layer", (hit, page.evaluate(
        "() => [document.querySelector('.card').className, getComputedStyle("
        "document.querySelector('.brush-layer')).display, document.querySelector("
        "'.brush-tools').outerHTML.slice(0, 300)]"))
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=12)
    page.mouse.up()
    assert _strokes(page) == 1
    page.click(".card .brush-undo")
    assert _strokes(page) == 0
    page.keyboard.press("Control+Shift+Z")
    assert _strokes(page) == 1
    page.keyboard.press("Control+Z")
    assert _strokes(page) == 0
    page.click(".card .brush-redo")
    assert _strokes(page) == 1

    with page.expect_response(lambda r: "/v1/remove" in r.url, timeout=90_000):
        page.click(".card .brush-apply")
    page.wait_for_selector(".card[data-status=done]", timeout=90_000)
    wait_rendered(page)
    sent = [path for path, _ in posts(page)]
    assert sent == ["/v1/remove", "/v1/remove"]
    query = parse_qs(urlparse([u for m, u, _ in page.requests if m == "POST"][-1]).query)
    strokes = json.loads(query["strokes"][0])
    assert strokes["keep"] == [] and len(strokes["remove"]) == 1
    first = strokes["remove"][0]["points"][0]
    assert abs(first[0] - start[0]) < 3 and abs(first[1] - start[1]) < 3  # photo pixels
    _, png = download(page, ".card .download")
    after = alpha_of(png)
    assert after[blob].mean() < 0.1, after[blob].mean()
    far = cv2.dilate(blob.astype(np.uint8), np.ones((81, 81), np.uint8)) == 0
    assert np.abs(after - before)[far].mean() < 0.01  # the rest of the photo stays
