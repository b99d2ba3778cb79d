"""The page's finishing controls (static/finishing.js): feather and shadow in server mode."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import page_fixtures
from page_fixtures import PAGE_MARKS, add_and_wait, download
from server_helpers import alpha_of

from helpers import PETS

pytestmark = PAGE_MARKS
browser, page_url, page = page_fixtures.browser, page_fixtures.page_url, page_fixtures.page


def test_server_mode_sends_feather_and_shadow_and_shows_the_shadow(page) -> None:
    assert page.query_selector("#advanced-fields [data-option=shadow]") is None  # privacy
    page.check("input[name=mode][value=server]", force=True)
    page.click("#advanced summary")
    page.select_option("#advanced-fields [data-option=shadow]", "drop")
    page.fill("#advanced-fields [data-option=feather]", "6")
    page.dispatch_event("#advanced-fields [data-option=feather]", "change")
    add_and_wait(page, PETS[2])
    sent = [parse_qs(urlparse(url).query) for method, url, _ in page.requests
            if method == "POST" and urlparse(url).path == "/v1/remove"]
    assert sent and sent[0]["shadow"] == ["drop"] and sent[0]["feather"] == ["6"]
    _, png = download(page, ".card .download")
    alpha = alpha_of(png)
    assert ((alpha > 0) & (alpha < 160)).sum() > 1000  # the shadow's semi-transparent cover
