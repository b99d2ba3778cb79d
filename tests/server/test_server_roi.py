"""``roi`` over HTTP: a query or form field on /v1/remove and /v1/mask, typed 422 errors for
bad boxes (the page's box prompt is tested in test_page_roi.py)."""

from __future__ import annotations

import httpx
import pytest
from PIL import Image
from server_helpers import alpha_of

from helpers import PETS

pytestmark = pytest.mark.model
PET = PETS[2]


def post(url: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.post(url + path, timeout=120, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["/v1/remove", "/v1/mask"])
def test_roi_field_keeps_only_the_box(server_url: str, path: str) -> None:
    width, height = Image.open(PET).size
    response = post(server_url, path, params={"roi": "0,0,50%,100%"},
                    files={"file": (PET.name, PET.read_bytes(), "image/jpeg")})
    assert response.status_code == 200, response.text
    alpha = alpha_of(response.content)
    if path == "/v1/remove":
        assert alpha.shape == (height, width)
    assert alpha[:, alpha.shape[1] // 2 + 1:].max() == 0.0 and alpha.max() > 0.9


@pytest.mark.parametrize("roi", ["0,0,5000,10", "9,9,1,1", "1,2,3", "a,b,c,d"])
def test_bad_boxes_are_typed_422s(server_url: str, roi: str) -> None:
    response = post(server_url, "/v1/remove", data={"roi": roi},
                    files={"file": (PET.name, PET.read_bytes(), "image/jpeg")})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_option" and "roi" in body["detail"]


def test_options_document_lists_roi(server_url: str) -> None:
    options = {o["name"]: o for o in httpx.get(server_url + "/v1/options").json()["options"]}
    assert options["roi"]["type"] == "string" and options["roi"]["group"] == "refine"
    assert set(options["roi"]["endpoints"]) == {"remove", "mask"}
