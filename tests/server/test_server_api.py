"""The HTTP API against a real uvicorn server on loopback with the real u2netp model."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image
from server_helpers import alpha_of, encode, noise_png, resized

from helpers import PETS, iou_outside_band, truth_for

pytestmark = pytest.mark.model

PET = PETS[0]


def post(url: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{url}{path}", timeout=120, **kwargs)  # type: ignore[arg-type]


def timings(response: httpx.Response) -> dict[str, float]:
    header = response.headers["X-Alphacut-Timings"]
    return {k: float(v) for k, v in (item.split("=") for item in header.split(", "))}


@pytest.mark.parametrize("image", PETS[:2], ids=[p.stem for p in PETS[:2]])
def test_remove_raw_body_gives_cutout_matching_ground_truth(server_url, image) -> None:
    response = post(server_url, "/v1/remove", content=image.read_bytes(),
                    headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    cutout = Image.open(io.BytesIO(response.content))
    assert cutout.mode == "RGBA"
    assert cutout.size == Image.open(image).size
    assert iou_outside_band(alpha_of(response.content), truth_for(image)) >= 0.8
    stages = timings(response)
    assert {"queue", "decode", "infer", "refine", "encode"} <= set(stages)
    assert all(ms >= 0 for ms in stages.values())
    assert response.headers["X-Alphacut-Model"] == "u2netp"
    assert response.headers["Cache-Control"] == "no-store"


def test_remove_multipart_with_form_options_jpeg_over_colour(server_url) -> None:
    response = post(server_url, "/v1/remove",
                    files={"file": (PET.name, PET.read_bytes(), "image/jpeg")},
                    data={"format": "jpeg", "bg": "#ff0000", "preset": "fast"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    truth = truth_for(PET)
    background = image[truth == 0].astype(int)
    assert np.median(background[:, 0]) > 200 and np.median(background[:, 1]) < 60


def test_remove_query_options_webp_cropped(server_url) -> None:
    response = post(server_url, "/v1/remove?format=webp&crop=true&crop_margin=0&preset=fast",
                    content=PET.read_bytes())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    cropped = Image.open(io.BytesIO(response.content))
    assert cropped.mode == "RGBA"
    full = Image.open(PET).size
    assert cropped.width * cropped.height < full[0] * full[1]


def test_remove_mask_only(server_url) -> None:
    response = post(server_url, "/v1/remove", params={"mask_only": "1"}, content=PET.read_bytes())
    assert response.status_code == 200
    mask = Image.open(io.BytesIO(response.content))
    assert mask.mode == "L"
    assert iou_outside_band(alpha_of(response.content), truth_for(PET)) >= 0.8


def test_remove_over_uploaded_background_image(server_url) -> None:
    green = encode(Image.new("RGB", (64, 64), (0, 200, 0)), "PNG")
    response = post(server_url, "/v1/remove",
                    files={"file": (PET.name, PET.read_bytes(), "image/jpeg"),
                           "bg": ("bg.png", green, "image/png")},
                    data={"preset": "fast"})
    assert response.status_code == 200, response.text
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    background = image[truth_for(PET) == 0].astype(int)
    assert np.median(background[:, 1]) > 150 and np.median(background[:, 0]) < 60


def test_mask_endpoint_at_requested_size(server_url) -> None:
    """What privacy mode does: a copy at the model's size in, the mask at full size out."""
    width, height = Image.open(PET).size
    response = post(server_url, "/v1/mask", params={"width": width, "height": height},
                    content=resized(PET, 320), headers={"Content-Type": "image/png"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    mask = Image.open(io.BytesIO(response.content))
    assert mask.mode == "L" and mask.size == (width, height)
    assert iou_outside_band(alpha_of(response.content), truth_for(PET)) >= 0.8
    assert "resize" in timings(response)


def test_mask_endpoint_one_side_keeps_aspect(server_url) -> None:
    response = post(server_url, "/v1/mask?width=100", content=PET.read_bytes())
    assert response.status_code == 200
    width, height = Image.open(PET).size
    assert Image.open(io.BytesIO(response.content)).size == (100, round(height * 100 / width))


def test_models_lists_licence_cache_and_default(server_url) -> None:
    models = httpx.get(f"{server_url}/v1/models").json()["models"]
    assert [m["name"] for m in models] == ["u2netp"]
    (u2netp,) = models
    assert u2netp["license"] == "Apache-2.0"
    assert u2netp["task"] == "general"
    assert u2netp["size_bytes"] > 1_000_000
    assert u2netp["cached"] is True and u2netp["loaded"] is True and u2netp["default"] is True


def test_healthz(server_url) -> None:
    body = httpx.get(f"{server_url}/healthz").json()
    assert body["status"] == "ok"
    assert "u2netp" in body["models_loaded"]  # sessions are per process: others may be too
    assert body["concurrency"] == 1


def test_docs_and_openapi_fetch_nothing_from_elsewhere(server_url) -> None:
    docs = httpx.get(f"{server_url}/docs")
    assert docs.status_code == 200
    assert "/v1/remove" in docs.text and "/openapi.json" in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text
    schema = httpx.get(f"{server_url}/openapi.json").json()
    remove = schema["paths"]["/v1/remove"]["post"]
    assert "multipart/form-data" in remove["requestBody"]["content"]
    assert {p["name"] for p in remove["parameters"]} >= {"preset", "bg", "format", "crop"}
    page = httpx.get(f"{server_url}/")
    assert page.status_code == 200 and "alphacut" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        text = httpx.get(f"{server_url}{asset}").text
        assert "http://" not in text and "https://" not in text


def test_cors_is_off_by_default(server_url) -> None:
    response = httpx.options(f"{server_url}/v1/remove", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_multipart_upload_never_touches_disk(server_url, monkeypatch) -> None:
    """A 2 MB multipart upload (over Starlette's 1 MiB spool) with every temp-file API
    sabotaged: the upload is parsed in memory, so it still works."""
    import tempfile

    def no_disk(*args: object, **kwargs: object) -> None:
        raise AssertionError("an upload was about to be written to disk")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_disk)
    big = noise_png(820, 820)
    assert len(big) > 2_000_000 - 100_000
    response = post(server_url, "/v1/mask?preset=fast",
                    files={"file": ("noise.png", big, "image/png")})
    assert response.status_code == 200, response.text


def test_starlette_form_parser_would_spool_to_disk() -> None:
    """Why ``upload.py`` exists: Starlette's ``request.form()`` rolls a >1 MiB file part over
    into a real temporary file."""
    import asyncio

    from starlette.requests import Request

    boundary = "xyzzy"
    payload = b"x" * (1024 * 1024 + 10)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    body += payload + f"\r\n--{boundary}--\r\n".encode()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def rolled() -> bool:
        scope = {"type": "http", "method": "POST", "headers": [
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}
        form = await Request(scope, receive).form()
        upload = form["file"]
        spooled = upload.file._rolled  # type: ignore[union-attr]
        await form.close()
        return bool(spooled)

    assert asyncio.run(rolled()) is True
