"""The web page, driven in headless Debian Chromium with Playwright (Python).

Privacy mode (the default) must upload only a downsized copy and still give a full-resolution
cut-out that matches the ground truth; server mode must send the original to /v1/remove. The
page's image maths (imaging.js) must give the engine's golden vectors (tests/golden).
"""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import numpy as np
import page_fixtures
import pytest
from page_fixtures import MISSING, PAGE_MARKS, add_and_wait, download, posts
from PIL import Image
from server_helpers import alpha_of

from helpers import PETS, ROOT, iou_outside_band, truth_for

pytestmark = PAGE_MARKS
browser, page_url, page = page_fixtures.browser, page_fixtures.page_url, page_fixtures.page
PET = PETS[0]
GOLDEN = ROOT / "tests" / "golden"


def test_privacy_mode_uploads_only_a_small_copy_and_cuts_out_on_device(page, page_url) -> None:
    original = PET.read_bytes()
    width, height = Image.open(PET).size
    add_and_wait(page, PET)
    name, png = download(page, ".card .download")
    assert name == f"{PET.stem}-cutout.png"
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


def test_zip_right_after_a_background_change_holds_the_new_renders(page) -> None:
    add_and_wait(page, [PETS[1], PETS[2]], done=2)
    _, data = download(page, "#zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names == [f"{PETS[1].stem}-cutout.png", f"{PETS[2].stem}-cutout.png"]
    first = Image.open(io.BytesIO(archive.read(names[0])))
    assert first.mode == "RGBA" and first.size == Image.open(PETS[1]).size

    uploads_before = len(posts(page))
    page.click("text=Colour")
    _, data = download(page, "#zip")  # at once: no waiting for the re-render
    for name in zipfile.ZipFile(io.BytesIO(data)).namelist():
        image = Image.open(io.BytesIO(zipfile.ZipFile(io.BytesIO(data)).read(name)))
        assert image.mode in ("RGB", "RGBA")
        assert image.mode == "RGB" or np.asarray(image.getchannel("A")).min() == 255, name
        assert np.asarray(image.convert("RGB"))[0, 0].tolist() == [255, 255, 255], name
    _, single = download(page, ".card .download")
    assert np.asarray(Image.open(io.BytesIO(single)).convert("RGBA"))[..., 3].min() == 255
    assert len(posts(page)) == uploads_before  # re-composited on the device


def test_server_mode_sends_the_original(page) -> None:
    page.check("input[name=mode][value=server]", force=True)
    note = page.inner_text("#mode-note")
    assert "Server mode" in note and "sends the original" in note
    add_and_wait(page, PETS[3])
    uploads = posts(page)
    assert [path for path, _ in uploads] == ["/v1/remove"]
    assert uploads[0][1] == PETS[3].read_bytes()
    _, png = download(page, ".card .download")
    assert iou_outside_band(alpha_of(png), truth_for(PETS[3])) >= 0.8


def test_model_picker_shows_licences_and_offers_only_installed_models(page) -> None:
    options = page.eval_on_selector_all(
        "#model option", "els => els.map(e => [e.value, e.textContent, e.disabled])")
    assert any(v == "u2netp" and "Apache-2.0" in t and not d for v, t, d in options)
    assert [d for v, _, d in options if v == MISSING] in ([], [True])
    assert "Apache-2.0" in page.inner_text("#model-info")


def test_page_maths_match_the_engine_golden_vectors(page) -> None:
    golden = json.loads((GOLDEN / "vectors.json").read_text(encoding="utf-8"))
    compare = (GOLDEN / "compare.js").read_text(encoding="utf-8")
    body = "\n".join(line for line in compare.splitlines() if not line.startswith("//"))
    errors = page.evaluate(
        f"async (g) => {{ const imaging = await import('/static/imaging.js');"
        f" return ({body})(imaging, g); }}", golden)
    assert len(errors) >= 20
    bad = {name: err for name, err in errors.items()
           if err is None or not err <= (1 if name.endswith("_u8") else 1e-4)}
    assert bad == {}


def test_static_modules_are_served_as_javascript(page_url) -> None:
    for name in ("main.js", "imaging.js", "cards.js", "controls.js", "api.js"):
        res = httpx.get(f"{page_url}/static/{name}")
        assert res.status_code == 200
        assert res.headers["content-type"].split(";")[0] in ("text/javascript",
                                                             "application/javascript")


def test_advanced_shows_every_refine_option_of_the_current_endpoint(page, page_url) -> None:
    res = httpx.get(f"{page_url}/v1/options")
    if res.status_code == 404:
        pytest.skip("this server has no GET /v1/options yet")
    options = res.json()["options"]
    for privacy, endpoint in ((True, "mask"), (False, "remove")):
        page.check(f"input[name=mode][value={'mask' if privacy else 'server'}]", force=True)
        want = sorted(o["name"] for o in options
                      if o["group"] == "refine" and endpoint in o["endpoints"])
        got = sorted(page.eval_on_selector_all("#advanced-fields [data-option]",
                                               "els => els.map(e => e.dataset.option)"))
        assert got == want and want
    presets = page.eval_on_selector_all("#preset option", "els => els.map(e => e.value)")
    assert presets == list(res.json()["presets"])


def test_the_page_ships_as_modules_none_over_450_lines() -> None:
    static = ROOT / "src" / "alphacut" / "interfaces" / "server" / "static"
    html = (static / "index.html").read_text(encoding="utf-8")
    assert '<script type="module" src="/static/main.js">' in html
    for path in static.glob("*.js"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 450, path.name
    assert not (static / "app.js").exists()

