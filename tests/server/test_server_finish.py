"""Issue 13 outputs over HTTP: layers=true gives a zip, format=psd a layered PSD, shadow and
feather fields shape the PNG (same names as the CLI's flags)."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import numpy as np
import pytest
from PIL import Image
from server_helpers import alpha_of

from helpers import PETS

pytestmark = pytest.mark.model


def post(url: str, **params: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/remove", params=params, content=PETS[1].read_bytes(),
                      headers={"Content-Type": "image/jpeg"}, timeout=120)


def test_layers_true_answers_a_zip_of_layers_and_manifest(server_url) -> None:
    response = post(server_url, layers="true")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        doc = json.loads(zf.read("layer-layers.json"))
        files = [entry["file"] for entry in doc["layers"]]
        assert zf.namelist() == [*files, "layer-layers.json"] and files[0] == "layer-1.png"
        first = Image.open(io.BytesIO(zf.read(files[0])))
    assert first.mode == "RGBA" and first.size == Image.open(PETS[1]).size


def test_format_psd_answers_a_layered_photoshop_file(server_url) -> None:
    psd_tools = pytest.importorskip("psd_tools")
    response = post(server_url, format="psd", bg="white", shadow="contact")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/vnd.adobe.photoshop"
    psd = psd_tools.PSDImage.open(io.BytesIO(response.content))
    assert [layer.name for layer in psd][:3] == ["Background", "Shadow", "Photo"]


def test_feather_and_shadow_fields_change_the_png(server_url) -> None:
    plain = alpha_of(post(server_url).content)
    soft = alpha_of(post(server_url, feather="10").content)
    assert np.all(soft <= plain) and soft.sum() < plain.sum()
    shaded = post(server_url, shadow="drop", shadow_offset="6,9", shadow_opacity="0.7")
    assert shaded.status_code == 200
    assert (alpha_of(shaded.content) > plain).sum() > 500  # the shadow's semi-transparent cover
    bad = post(server_url, shadow="drop", shadow_offset="six")
    assert bad.status_code == 422 and "shadow_offset" in bad.text
