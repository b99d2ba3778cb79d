"""The page's rough edges from a user review, each pinned by a browser test.

Missing weights, failed redos, stale downloads, undecodable files, non-images, empty
results, zoom, JPG/WebP downloads, dark mode and accessibility (live region, named progress
bars, visible slider focus, AA contrast, 44 px tap targets on a phone-sized viewport).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import page_fixtures
import pytest
from page_fixtures import PAGE_MARKS, add_and_wait, download, open_page, posts, wait_rendered
from PIL import Image

from helpers import PETS

pytestmark = PAGE_MARKS
browser, page_url, page = page_fixtures.browser, page_fixtures.page_url, page_fixtures.page
PET = PETS[0]
PATHISH = re.compile(r"(/[\w.-]+){2,}|[0-9a-f]{32,}|sha256", re.IGNORECASE)


def options_of(page: Any, select: str) -> dict[str, bool]:
    """value -> offered (not disabled) for a <select>."""
    script = "els => els.map(e => [e.value, !e.disabled])"
    return dict(page.eval_on_selector_all(f"{select} option", script))


def status_text(page: Any) -> str:
    page.wait_for_timeout(100)  # the live region is filled in a fresh task
    return page.inner_text("#status") + " " + page.inner_text("#alert")


# ------------------------------------------------------------------ missing weights, redo


def test_a_quality_the_server_cannot_run_is_one_request_and_a_user_message(page) -> None:
    offered = options_of(page, "#preset")
    if not offered.get("best", False):
        assert "best" not in offered or offered["best"] is False  # not offered: all good
        return
    page.select_option("#preset", "best")
    page.set_input_files("#files", str(PET))
    page.wait_for_selector(".card[data-status=failed]", timeout=60_000)
    assert [path for path, _ in posts(page)] == ["/v1/mask"]  # no retries: it is not busy
    message = page.inner_text(".card .state")
    assert "not installed" in message and not PATHISH.search(message)
    assert "Retry" not in message and "busy" not in message.lower()
    assert options_of(page, "#preset")["best"] is False  # no longer offered
    assert page.is_visible("#retry")
    assert "not installed" in status_text(page)


def test_a_failed_redo_leaves_no_old_download_and_retry_failed_recovers(page) -> None:
    add_and_wait(page, PET)
    page.select_option("#preset", "fast")
    assert page.is_visible("#redo-all")  # new settings: offer to redo the done images
    page.route("**/v1/mask*", lambda route: route.abort())  # the network drops
    page.click(".card .redo")
    page.wait_for_selector(".card[data-status=failed]", timeout=30_000)
    assert page.is_hidden(".card .download")
    assert page.get_attribute(".card .download", "href") is None
    assert page.is_disabled("#zip")
    page.unroute("**/v1/mask*")
    page.click("#retry")
    page.wait_for_selector(".card[data-status=done]", timeout=60_000)
    wait_rendered(page)
    assert page.is_hidden("#retry") and page.is_hidden("#redo-all")


def test_downloads_are_off_while_a_render_runs(page) -> None:
    add_and_wait(page, PET)
    page.evaluate("""() => { window.__seen = [];
        const link = document.querySelector('.card .download');
        new MutationObserver(() => window.__seen.push([link.hidden, link.getAttribute('href'),
            document.querySelector('#zip').disabled])).observe(link, {attributes: true}); }""")
    page.click("text=Colour")
    wait_rendered(page)
    seen = page.evaluate("window.__seen")
    assert any(hidden and href is None for hidden, href, _ in seen)  # off during the render
    assert not page.is_hidden(".card .download")


# ------------------------------------------------------------------ files


def heic_file(tmp_path: Path) -> Path:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "pet.heic"
    Image.open(PET).convert("RGB").save(path, format="HEIF", quality=90)
    return path


def test_heic_goes_to_the_server_in_server_mode(page, tmp_path) -> None:
    heic = heic_file(tmp_path)
    page.check("input[name=mode][value=server]", force=True)
    page.set_input_files("#files", str(heic))
    page.wait_for_selector(".card[data-status=done]", timeout=90_000)
    assert [(p, b) for p, b in posts(page)] == [("/v1/remove", heic.read_bytes())]
    assert "cannot open" in page.inner_text(".card .state") + status_text(page)
    wait_rendered(page)
    _, png = download(page, ".card .download")
    assert Image.open(io.BytesIO(png)).size == Image.open(PET).size


def test_heic_in_privacy_mode_asks_before_sending_the_original(page, tmp_path) -> None:
    heic = heic_file(tmp_path)
    page.set_input_files("#files", str(heic))
    page.wait_for_selector(".card[data-status=needs-server]", timeout=30_000)
    assert posts(page) == []  # privacy mode sends nothing on its own
    assert "cannot open" in page.inner_text(".card .state")
    page.click(".card .send-original")
    page.wait_for_selector(".card[data-status=done]", timeout=90_000)
    assert [p for p, _ in posts(page)] == ["/v1/remove"]


def drop_files(page: Any, files: list[tuple[str, bytes, str]], target: str = "body") -> None:
    """Drop ``(name, bytes, mime)`` files on ``target`` as a real drag and drop would."""
    page.evaluate("""([files, target]) => {
        const dt = new DataTransfer();
        for (const [name, bytes, type] of files)
            dt.items.add(new File([new Uint8Array(bytes)], name, {type}));
        const el = document.querySelector(target);
        for (const kind of ['dragenter', 'dragover', 'drop'])
            el.dispatchEvent(new DragEvent(kind,
                {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [[[n, list(b), t] for n, b, t in files], target])


def test_drops_anywhere_are_caught_and_a_text_file_is_reported(page) -> None:
    url = page.url
    drop_files(page, [("notes.txt", b"hello", "text/plain"),
                      (PET.name, PET.read_bytes(), "image/jpeg")], target="footer")
    page.wait_for_selector(".card[data-status=done]", timeout=90_000)
    assert page.url == url
    assert page.locator(".card").count() == 1
    assert "notes.txt" in page.inner_text("#notice")
    assert "notes.txt" in status_text(page)


def test_a_near_empty_result_is_warned_about(page, tmp_path) -> None:
    flat = tmp_path / "flat-grey.png"
    Image.new("RGB", (300, 200), (128, 128, 128)).save(flat)
    add_and_wait(page, flat)
    assert page.is_visible(".card .warning")
    assert "almost fully transparent" in page.inner_text(".card .warning")


def test_background_image_without_an_image_gives_a_hint(page) -> None:
    assert page.is_hidden("#bg-hint")
    page.click("text=Image")
    assert page.is_visible("#bg-hint") and "Choose an image" in page.inner_text("#bg-hint")


# ------------------------------------------------------------------ inspecting and formats


def test_zoom_and_pan_on_the_result(page) -> None:
    add_and_wait(page, PET)
    page.click(".card .zoom-in")
    page.click(".card .zoom-in")
    style = "n => getComputedStyle(n).getPropertyValue"
    assert page.eval_on_selector(".card .compare", f"{style}('--zoom')").strip() == "4"
    box = page.locator(".card .compare").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 30, steps=4)
    page.mouse.up()
    assert page.eval_on_selector(".card .compare", f"{style}('--pan-x')").strip() == "60px"
    transform = page.eval_on_selector(".card .after", "n => getComputedStyle(n).transform")
    assert transform.startswith("matrix(4, 0, 0, 4, 60, 30")
    page.click(".card .zoom-level")
    assert page.eval_on_selector(".card .compare", f"{style}('--zoom')").strip() == "1"


@pytest.mark.parametrize(("fmt", "ext", "pil"),
                         [("jpeg", ".jpg", "JPEG"), ("webp", ".webp", "WEBP")])
def test_jpg_and_webp_downloads_over_a_solid_colour(page, fmt, ext, pil) -> None:
    add_and_wait(page, PET)
    page.click("text=Colour")
    page.fill("#bg-color", "#ff0000")
    page.dispatch_event("#bg-color", "change")
    page.select_option("#format", fmt)
    wait_rendered(page)
    assert page.inner_text(".card .download") == f"Download {'JPG' if fmt == 'jpeg' else 'WEBP'}"
    name, data = download(page, ".card .download")
    image = Image.open(io.BytesIO(data))
    assert name == f"{PET.stem}-cutout{ext}" and image.format == pil
    assert image.size == Image.open(PET).size
    corner = np.asarray(image.convert("RGB"))[:8, :8].reshape(-1, 3).mean(axis=0)
    assert corner[0] > 200 and corner[1] < 60 and corner[2] < 60


# ------------------------------------------------------------------ dark mode, accessibility


def luminance(rgb: tuple[float, float, float]) -> float:
    c = [v / 255 for v in rgb]
    c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(parse_rgb(a)), luminance(parse_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def parse_rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def colours(page: Any, selector: str, prop: str = "color") -> str:
    return page.eval_on_selector(selector, f"n => getComputedStyle(n).{prop}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_contrast_is_wcag_aa_in_light_and_dark(browser, page_url, scheme) -> None:
    page = open_page(browser, page_url, color_scheme=scheme)
    try:
        add_and_wait(page, PET)
        surface = colours(page, ".card", "backgroundColor")
        body = colours(page, "body", "backgroundColor")
        assert (luminance(parse_rgb(body)) < 0.05) == (scheme == "dark")
        assert contrast(colours(page, ".card .state"), surface) >= 4.5  # "Done · on device"
        assert contrast(colours(page, "#summary"), body) >= 4.5  # status text
        assert contrast(colours(page, "#model-info"), surface) >= 4.5
        page.check("input[name=mode][value=server]", force=True)
        chosen = "input[name=mode]:checked + span"  # the mode picker's chosen segment
        assert contrast(colours(page, chosen), colours(page, chosen, "backgroundColor")) >= 4.5
    finally:
        page.context.close()


def test_live_region_named_progress_and_visible_slider_focus(page) -> None:
    assert page.get_attribute("#status", "role") == "status"
    assert page.get_attribute("#status", "aria-live") == "polite"
    add_and_wait(page, PET)
    assert "done" in status_text(page).lower()
    assert page.get_attribute(".card progress", "aria-label") == f"Progress: {PET.name}"
    page.focus("#crop")
    page.keyboard.press("Tab")  # keyboard focus moves on; reach the slider by keyboard
    for _ in range(20):
        if page.evaluate("document.activeElement.classList.contains('slider')"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('slider')")
    outline = page.eval_on_selector(".card .compare", "n => getComputedStyle(n).outlineStyle")
    assert outline != "none"


def test_tap_targets_are_44px_on_a_phone(browser, page_url) -> None:
    page = open_page(browser, page_url, viewport={"width": 375, "height": 740})
    try:
        add_and_wait(page, PET)
        small = page.evaluate("""() => {
            const sel = 'a[href], button, select, summary, input[type=color], .segmented label,'
                      + ' label.check, label.switch, .card .download';
            return [...document.querySelectorAll(sel)].filter((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
            }).map((el) => [el.id || el.className || el.tagName, el.textContent.trim().slice(0, 20),
                            Math.round(el.getBoundingClientRect().width),
                            Math.round(el.getBoundingClientRect().height)])
              .filter(([, , w, h]) => w < 44 || h < 44);
        }""")
        assert small == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        page.context.close()
