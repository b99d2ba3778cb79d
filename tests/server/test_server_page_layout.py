"""The page's Layout and colour fields (static/layout.js), in headless Chromium: the canvas,
scale, position and crop margin give the engine's sizes and boxes, applied on the device
(no new upload), and match colour moves the subject's colours toward the background."""

from __future__ import annotations

import io

import numpy as np
import page_fixtures
from page_fixtures import PAGE_MARKS, add_and_wait, download, posts
from PIL import Image

from alphacut.config import Config
from alphacut.engine.stages import compose
from alphacut.types import ImageMeta, Result, SoftMask
from helpers import PETS

pytestmark = PAGE_MARKS
browser, page_url, page = page_fixtures.browser, page_fixtures.page_url, page_fixtures.page


def _set(page, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``value`` into a Layout field (without focus, so no second change on blur)."""
    page.eval_on_selector(f"[data-layout={name}]",
                          "(el, v) => { el.value = v; el.dispatchEvent(new Event('change')); }",
                          value)


def _download(page) -> bytes:  # type: ignore[no-untyped-def]
    """The card's file once its render is done (the link is off while it renders)."""
    page.wait_for_selector(".card .download[aria-disabled=false]")
    return download(page, ".card .download")[1]


def _box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((alpha >= 128).any(axis=1))
    cols = np.flatnonzero((alpha >= 128).any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _engine(cutout: np.ndarray, **options: object) -> np.ndarray:
    """What the engine's compose makes of the page's own full-size cut-out."""
    alpha = (cutout[..., 3] / 255.0).astype(np.float32)
    fg = np.ascontiguousarray(cutout[..., :3])
    result = Result(image=fg, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=fg,
                    meta=ImageMeta(fg.shape[1], fg.shape[0]), model="page")
    return compose(result, Config.build(**options).output)


def test_layout_fields_give_the_engines_canvas_and_box_on_the_device(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("#layout [data-layout]").count() == 5
    add_and_wait(page, PETS[2])
    plain = _download(page)
    cutout = np.asarray(Image.open(io.BytesIO(plain)).convert("RGBA"))
    uploads = len(posts(page))
    for name, value in (("size", "400x300"), ("scale", "70%"), ("position", "bottom")):
        _set(page, name, value)
    data = _download(page)
    got = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    assert got.shape == (300, 400, 4)
    want = _engine(cutout, size="400x300", scale="70%", position="bottom")
    assert all(abs(g - w) <= 1 for g, w in zip(_box(got[..., 3]), _box(want[..., 3]),
                                                 strict=True))
    page.check("#crop", force=True)
    _set(page, "crop_margin", "10% 0")
    _set(page, "size", "")
    _set(page, "scale", "")
    _set(page, "position", "")
    data = _download(page)
    cropped = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    want = _engine(cutout, crop=True, crop_margin="10% 0")
    assert abs(cropped.shape[0] - want.shape[0]) <= 1 and abs(cropped.shape[1] - want.shape[1]) <= 1
    assert len(posts(page)) == uploads  # laid out on the device, no new request


def test_match_colour_moves_the_subject_toward_the_background_colour(page) -> None:  # type: ignore[no-untyped-def]
    add_and_wait(page, PETS[2])
    page.click("text=Colour")
    page.eval_on_selector("#bg-color", "el => { el.value = '#2040c0'; "
                          "el.dispatchEvent(new Event('change')); }")
    before = _download(page)
    _set(page, "match_colour", "0.6")
    after = _download(page)
    a = np.asarray(Image.open(io.BytesIO(before)).convert("RGB")).astype(float)
    b = np.asarray(Image.open(io.BytesIO(after)).convert("RGB")).astype(float)
    changed = np.abs(a - b).sum(axis=2) > 0
    assert changed.mean() > 0.05
    blue_gain = (b[changed][:, 2] - b[changed][:, 0]).mean() - (a[changed][:, 2]
                                                                   - a[changed][:, 0]).mean()
    assert blue_gain > 10
