"""The page's box prompt (static/roi.js), in headless Debian Chromium with Playwright: drag a
box on a card's photo of two pets, the card runs again with ``roi``, and only the boxed pet is
left, in privacy mode (/v1/mask) and in server mode (/v1/remove)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import page_fixtures
import pytest
from page_fixtures import PAGE_MARKS, add_and_wait, download, wait_rendered
from PIL import Image
from server_helpers import alpha_of

from helpers import PETS, iou_outside_band, truth_for

pytestmark = PAGE_MARKS
browser, page_url, page = page_fixtures.browser, page_fixtures.page_url, page_fixtures.page
SIZE = (500, 375)  # each pet's half of the photo


def two_pets(folder: Path) -> tuple[Path, np.ndarray]:
    """A 1000x375 photo: one pet on the left, another on the right; (path, the right pet's
    truth over the whole photo, ``uint8 (375, 1000)`` with the fixtures' 128 band)."""
    left, right = PETS[0], PETS[2]
    photo = Image.new("RGB", (2 * SIZE[0], SIZE[1]))
    photo.paste(Image.open(left).convert("RGB").resize(SIZE), (0, 0))
    photo.paste(Image.open(right).convert("RGB").resize(SIZE), (SIZE[0], 0))
    truth = np.zeros((SIZE[1], 2 * SIZE[0]), dtype=np.uint8)
    truth[:, SIZE[0]:] = np.asarray(Image.fromarray(truth_for(right)).resize(SIZE,
                                                                             Image.NEAREST))
    path = folder / "two-pets.png"
    photo.save(path)
    return path, truth


def drag_box(page: Any, x1: float, y1: float, x2: float, y2: float) -> None:
    """Press "Box" and drag from (x1, y1) to (x2, y2), fractions of the shown photo."""
    page.click(".card .roi-toggle")
    rect = page.eval_on_selector(".card .before", """img => {
        const e = img.getBoundingClientRect();
        const s = Math.min(e.width / img.naturalWidth, e.height / img.naturalHeight);
        const w = img.naturalWidth * s, h = img.naturalHeight * s;
        return {left: e.left + (e.width - w) / 2, top: e.top + (e.height - h) / 2, w, h};
    }""")
    page.mouse.move(rect["left"] + x1 * rect["w"], rect["top"] + y1 * rect["h"])
    page.mouse.down()
    for step in range(1, 6):
        t = step / 5
        page.mouse.move(rect["left"] + (x1 + t * (x2 - x1)) * rect["w"],
                        rect["top"] + (y1 + t * (y2 - y1)) * rect["h"])
    page.mouse.up()


def sent_roi(page: Any, path: str) -> list[str]:
    """The ``roi`` values of every POST to ``path`` so far."""
    return [parse_qs(urlparse(url).query).get("roi", [""])[0] for method, url, _ in page.requests
            if method == "POST" and urlparse(url).path == path]


@pytest.mark.parametrize("privacy", [True, False], ids=["privacy", "server"])
def test_drag_a_box_keeps_only_the_boxed_pet(page: Any, tmp_path: Path, privacy: bool) -> None:
    page.check(f"input[name=mode][value={'mask' if privacy else 'server'}]", force=True)
    endpoint = "/v1/mask" if privacy else "/v1/remove"
    photo, truth = two_pets(tmp_path)
    add_and_wait(page, photo)
    _, before = download(page, ".card .download")
    assert alpha_of(before)[:, : SIZE[0]].max() > 0.9  # without a box: both pets

    drag_box(page, 0.52, 0.01, 0.99, 0.99)
    page.wait_for_selector(".card[data-roi][data-status=done]", timeout=90_000)
    wait_rendered(page)
    assert len(sent_roi(page, endpoint)) == 2 and sent_roi(page, endpoint)[0] == ""
    x1, y1, x2, y2 = (float(v.rstrip("%")) for v in page.get_attribute(".card",
                                                                    "data-roi").split(","))
    assert abs(x1 - 52) < 1 and abs(x2 - 99) < 1 and y1 < 2 and y2 > 98
    if privacy:  # the small copy is the crop around the box (+20% context), roi relative to it
        bodies = [body for method, url, body in page.requests
                  if method == "POST" and urlparse(url).path == endpoint]
        width, height = Image.open(io.BytesIO(bodies[1])).size
        assert abs(width / height - 574 / 375) < 0.02, (width, height)
        cx1, _, cx2, _ = (float(v.rstrip("%")) for v in sent_roi(page, endpoint)[1].split(","))
        assert abs(cx1 - 100 * 94 / 574) < 1 and abs(cx2 - 100 * 564 / 574) < 1
    else:
        assert sent_roi(page, endpoint)[1] == page.get_attribute(".card", "data-roi")

    _, after = download(page, ".card .download")
    alpha = alpha_of(after)
    assert alpha.shape == truth.shape
    assert alpha[:, : round(SIZE[0] * 2 * x1 / 100)].max() == 0.0  # nothing left of the box
    assert iou_outside_band(alpha, truth) >= 0.8

    page.click(".card .roi-clear")  # back to the whole photo
    page.wait_for_selector(".card:not([data-roi])[data-status=done]", timeout=90_000)
    wait_rendered(page)
    assert sent_roi(page, endpoint)[-1] == ""
    _, cleared = download(page, ".card .download")
    assert alpha_of(cleared)[:, : SIZE[0]].max() > 0.9


def test_a_click_is_not_a_box(page: Any, tmp_path: Path) -> None:
    photo, _ = two_pets(tmp_path)
    add_and_wait(page, photo)
    drag_box(page, 0.5, 0.5, 0.5005, 0.5005)
    assert page.get_attribute(".card", "data-roi") is None
    assert page.get_attribute(".card", "data-status") == "done"
    assert len([1 for method, _, _ in page.requests if method == "POST"]) == 1
