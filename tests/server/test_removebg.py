"""``POST /v1.0/removebg`` on a real server (loopback, real u2netp): the exact requests the
remove.bg documentation's curl and Python examples send, the other bodies its clients send
(urlencoded, JSON with ``image_file_b64``), its formats, headers and error shapes."""

from __future__ import annotations

import base64
import io
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from removebg_helpers import Route, local_site
from server_helpers import MAX_PIXELS, MAX_UPLOAD, encode, live_server

from alphacut.config import Config
from alphacut.interfaces.server.settings import ServerSettings

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"
KEY = "test-key-0123456789abcdef"
AUTH_FAILED = {"errors": [{"title": "API Key invalid", "code": "auth_failed"}]}
PREVIEW = 250_000


@pytest.fixture(scope="module")
def keyed_url(u2netp_remover) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A server that needs an API key and may fetch URLs (public addresses only)."""
    settings = ServerSettings(model="u2netp", models=("u2netp",), max_upload_bytes=MAX_UPLOAD,
                              max_pixels=MAX_PIXELS, api_keys=(KEY,), allow_url_fetch=True)
    with live_server(settings) as url:
        yield url


def endpoint(base: str) -> str:
    return f"{base}/v1.0/removebg"


def sample_size() -> tuple[int, int]:
    return Image.open(SAMPLE).size


def post(base: str, fields: dict[str, str], *, key: str | None = KEY) -> requests.Response:
    """A multipart request with the sample as ``image_file`` and ``fields``."""
    with SAMPLE.open("rb") as image:
        return requests.post(endpoint(base), files={"image_file": image}, data=fields,
                             headers={"X-Api-Key": key} if key else {}, timeout=120)


def errors(response: requests.Response) -> list[dict[str, str]]:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    return body["errors"]  # type: ignore[no-any-return]


def check_headers(response: requests.Response, width: int, height: int) -> None:
    assert response.headers["X-Width"] == str(width)
    assert response.headers["X-Height"] == str(height)
    assert response.headers["X-Credits-Charged"] == "0"
    assert response.headers["X-Type"] == "other"
    top, left, fg_w, fg_h = (int(response.headers[f"X-Foreground-{name}"])
                             for name in ("Top", "Left", "Width", "Height"))
    assert min(top, left) >= 0 and 0 < fg_w <= width - left and 0 < fg_h <= height - top


# ------------------------------------------------------------------ the documentation's examples


def test_docs_curl_example(keyed_url: str, tmp_path: Path) -> None:
    """remove.bg's curl sample, byte for byte but the URL (and -D to look at the headers)."""
    out, head = tmp_path / "no-bg.png", tmp_path / "headers.txt"
    done = subprocess.run(
        ["curl", "-s", "-H", f"X-API-Key: {KEY}", "-F", f"image_file=@{SAMPLE}",
         "-F", "size=auto", "-f", endpoint(keyed_url), "-o", str(out), "-D", str(head)],
        capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr
    image = Image.open(out)
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == sample_size()
    alpha = np.asarray(image.getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255  # a real cut-out
    headers = head.read_text().lower()
    assert "content-type: image/png" in headers and "x-credits-charged: 0" in headers
    assert f"x-width: {image.width}" in headers and f"x-height: {image.height}" in headers


def test_docs_python_example(keyed_url: str, tmp_path: Path) -> None:
    """remove.bg's Python (requests) sample with only the URL changed."""
    out = tmp_path / "no-bg.png"
    response = requests.post(
        endpoint(keyed_url),
        files={"image_file": open(SAMPLE, "rb")},  # noqa: SIM115 (as the docs write it)
        data={"size": "auto"},
        headers={"X-Api-Key": KEY},
    )
    if response.status_code == requests.codes.ok:
        with open(out, "wb") as handle:
            handle.write(response.content)
    else:
        pytest.fail(f"Error: {response.status_code} {response.text}")
    image = Image.open(out)
    assert image.mode == "RGBA" and image.size == sample_size()
    check_headers(response, *image.size)
    assert response.headers["content-type"] == "image/png"


def test_docs_image_url_example_is_refused_by_default(server_url: str) -> None:
    """The docs' image_url sample (urlencoded): refused unless the operator allows URLs."""
    response = requests.post(endpoint(server_url),
                             data={"image_url": "https://www.remove.bg/example.jpg",
                                   "size": "auto"},
                             headers={"X-Api-Key": "INSERT_YOUR_API_KEY_HERE"})
    assert response.status_code == 400
    assert errors(response)[0]["code"] == "url_fetch_disabled"


# ------------------------------------------------------------------ other bodies and sizes


def test_base64_in_json_with_json_result(keyed_url: str) -> None:
    """Client libraries' JSON body (image_file_b64, size=regular) and Accept: application/json:
    the result comes back as data.result_b64 with the foreground box."""
    payload = {"image_file_b64": base64.b64encode(SAMPLE.read_bytes()).decode(),
               "size": "regular"}
    response = requests.post(endpoint(keyed_url), json=payload,
                             headers={"X-Api-Key": KEY, "Accept": "application/json"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    image = Image.open(io.BytesIO(base64.b64decode(data["result_b64"])))
    assert image.mode == "RGBA" and image.size == sample_size()
    assert data["foreground_top"] == int(response.headers["X-Foreground-Top"])
    assert data["foreground_width"] == int(response.headers["X-Foreground-Width"])


def test_urlencoded_base64_default_size_is_preview(keyed_url: str) -> None:
    """No size: remove.bg's default ``preview`` (up to 0.25 MP), aspect ratio kept."""
    big = Image.open(SAMPLE).resize((1000, 1500), Image.Resampling.BILINEAR)
    response = requests.post(endpoint(keyed_url), headers={"X-Api-Key": KEY},
                             data={"image_file_b64": base64.b64encode(encode(big)).decode()})
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    assert image.width * image.height <= PREVIEW
    assert image.width * image.height > 0.98 * PREVIEW
    assert abs(image.width / image.height - 1000 / 1500) < 0.01
    check_headers(response, *image.size)


# ------------------------------------------------------------------ formats and options


def test_zip_is_color_jpg_and_alpha_png(keyed_url: str) -> None:
    cutout = Image.open(io.BytesIO(post(keyed_url, {"size": "auto"}).content))
    response = post(keyed_url, {"size": "auto", "format": "zip"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == ["alpha.png", "color.jpg"]
        color = Image.open(io.BytesIO(archive.read("color.jpg")))
        alpha = Image.open(io.BytesIO(archive.read("alpha.png")))
    assert color.format == "JPEG" and color.mode == "RGB" and color.size == cutout.size
    assert alpha.format == "PNG" and alpha.mode == "L" and alpha.size == cutout.size
    difference = np.abs(np.asarray(alpha, np.int16) - np.asarray(cutout.getchannel("A"),
                                                                  np.int16))
    assert difference.max() <= 1  # the same matte as the PNG cut-out


def test_jpg_over_bg_color(keyed_url: str) -> None:
    response = post(keyed_url, {"size": "auto", "format": "jpg", "bg_color": "81d4fa"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"), np.int16)
    corner = image[:8, :8].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - (0x81, 0xD4, 0xFA)).max() < 6


def test_auto_format_is_jpg_when_opaque_and_alpha_channel(keyed_url: str) -> None:
    opaque = post(keyed_url, {"size": "auto", "bg_color": "white"})
    assert opaque.headers["content-type"] == "image/jpeg"
    mask = post(keyed_url, {"size": "auto", "channels": "alpha", "format": "png"})
    assert mask.status_code == 200 and mask.headers["content-type"] == "image/png"
    grey = Image.open(io.BytesIO(mask.content))
    assert grey.mode == "L" and grey.size == sample_size()


def test_crop_has_no_margin_by_default(keyed_url: str) -> None:
    full = post(keyed_url, {"size": "auto"})
    cropped = post(keyed_url, {"size": "auto", "crop": "true"})
    assert cropped.status_code == 200
    assert cropped.headers["X-Width"] == full.headers["X-Foreground-Width"]
    assert cropped.headers["X-Height"] == full.headers["X-Foreground-Height"]
    assert cropped.headers["X-Foreground-Top"] == cropped.headers["X-Foreground-Left"] == "0"


def test_person_type_is_reported(keyed_url: str) -> None:
    response = post(keyed_url, {"size": "auto", "type": "person", "type_level": "1"})
    assert response.status_code == 200 and response.headers["X-Type"] == "person"
    hidden = post(keyed_url, {"size": "auto", "type_level": "none"})
    assert "X-Type" not in hidden.headers


@pytest.mark.parametrize(("field", "value", "option"), [
    ("roi", "0% 0% 100% 100%", "roi"), ("scale", "80%", "scale"),
    ("position", "center", "position"), ("add_shadow", "true", "shadow"),
])
def test_fields_of_other_features(keyed_url: str, field: str, value: str, option: str) -> None:
    """Passed on when this build has the option; a remove.bg 'not supported yet' otherwise."""
    response = post(keyed_url, {"size": "auto", field: value})
    if option in Config.option_names():
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400
        assert errors(response)[0]["code"] == "unsupported_parameter"


# ------------------------------------------------------------------ errors


def test_bad_or_missing_key_is_removebg_403(keyed_url: str) -> None:
    for key in ("wrong-key-0123456789", None):
        response = post(keyed_url, {"size": "auto"}, key=key)
        assert response.status_code == 403 and response.json() == AUTH_FAILED
    assert requests.get(f"{keyed_url}/v1.0/account").json() == AUTH_FAILED


def test_missing_image(keyed_url: str) -> None:
    response = requests.post(endpoint(keyed_url), data={"size": "auto"},
                             headers={"X-Api-Key": KEY})
    assert response.status_code == 400
    assert errors(response)[0]["code"] == "missing_source"


@pytest.mark.parametrize(("fields", "code"), [
    ({"size": "auto", "colour": "red"}, "unknown_parameter"),
    ({"size": "huge"}, "invalid_parameter"),
    ({"size": "auto", "format": "gif"}, "invalid_parameter"),
    ({"size": "auto", "bg_color": "not-a-colour"}, "invalid_parameter"),
    ({"size": "auto", "crop": "maybe"}, "invalid_parameter"),
])
def test_bad_fields(keyed_url: str, fields: dict[str, str], code: str) -> None:
    response = post(keyed_url, fields)
    assert response.status_code == 400
    (error,) = errors(response)
    assert error["code"] == code and error["title"]


def test_not_an_image(keyed_url: str) -> None:
    response = requests.post(endpoint(keyed_url), files={"image_file": b"not an image"},
                             headers={"X-Api-Key": KEY})
    assert response.status_code == 400
    assert errors(response)[0]["code"] == "invalid_image"


def test_enabled_fetching_still_refuses_local_hosts(keyed_url: str) -> None:
    """With fetching on, a loopback or private image_url is refused before any connection."""
    with local_site() as site:
        site.routes["/photo.jpg"] = Route(body=SAMPLE.read_bytes())
        for url in (f"{site.url}/photo.jpg", site.url.replace("127.0.0.1", "localhost") +
                    "/photo.jpg", "http://10.0.0.1/photo.jpg",
                    "http://169.254.169.254/latest/meta-data/"):
            response = requests.post(endpoint(keyed_url), data={"image_url": url},
                                     headers={"X-Api-Key": KEY})
            assert response.status_code == 400
            (error,) = errors(response)
            assert error["code"] == "url_fetch_failed" and "image_url" in error["title"]
        response = post(keyed_url, {"bg_image_url": f"{site.url}/photo.jpg"})
        assert errors(response)[0]["code"] == "url_fetch_failed"
        assert site.hits == []


def test_account(keyed_url: str) -> None:
    body = requests.get(f"{keyed_url}/v1.0/account", headers={"X-Api-Key": KEY}).json()
    assert body["data"]["attributes"]["credits"]["total"] == 0
    assert body["data"]["attributes"]["api"]["sizes"] == "all"


def box(response: requests.Response) -> tuple[int, int, int, int]:
    """(top, left, width, height) of the subject from the X-Foreground-* headers."""
    return tuple(int(response.headers[f"X-Foreground-{name}"])  # type: ignore[return-value]
                 for name in ("Top", "Left", "Width", "Height"))


def test_crop_margin_in_pixels(keyed_url: str) -> None:
    full = post(keyed_url, {"size": "auto"})
    _, _, width, height = box(full)
    cropped = post(keyed_url, {"size": "auto", "crop": "true", "crop_margin": "10px"})
    assert cropped.status_code == 200, cropped.text
    assert (int(cropped.headers["X-Width"]), int(cropped.headers["X-Height"])) == \
        (width + 20, height + 20)
    assert box(cropped)[:2] == (10, 10)


@pytest.mark.skipif("roi" not in Config.option_names(), reason="no roi in this build")
def test_roi_keeps_only_the_box(keyed_url: str) -> None:
    """remove.bg's roi syntax ('x1 y1 x2 y2', px or %): nothing is kept right of x2."""
    response = post(keyed_url, {"size": "auto", "roi": "0px 0px 50% 100%"})
    assert response.status_code == 200, response.text
    _, left, width, _ = box(response)
    assert left + width <= sample_size()[0] / 2 + 1
    alpha = np.asarray(Image.open(io.BytesIO(response.content)).getchannel("A"))
    assert alpha[:, sample_size()[0] // 2 + 1:].max() == 0


@pytest.mark.skipif(not {"scale", "position"} <= set(Config.option_names()),
                    reason="no layout options in this build")
def test_scale_centres_and_position_places(keyed_url: str) -> None:
    """scale=50%: the subject's longer fit is half the canvas (the photo's size) and, as in
    remove.bg, centred unless a position is given; '0% 100%' is bottom left."""
    image_w, image_h = sample_size()
    scaled = post(keyed_url, {"size": "auto", "scale": "50%"})
    assert (int(scaled.headers["X-Width"]), int(scaled.headers["X-Height"])) == (image_w, image_h)
    top, left, width, height = box(scaled)
    assert abs(max(width / image_w, height / image_h) - 0.5) < 0.01
    assert abs(top - (image_h - height) / 2) <= 1 and abs(left - (image_w - width) / 2) <= 1
    placed = post(keyed_url, {"size": "auto", "scale": "50%", "position": "0% 100%"})
    top, left, width, height = box(placed)
    assert left == 0 and top + height == image_h


@pytest.mark.skipif("roi" not in Config.option_names(), reason="no roi in this build")
def test_roi_pixels_are_the_uploads_when_size_scales_down(keyed_url: str) -> None:
    """A 1000x1500 upload, roi in its pixels (left half), default size preview: the box is
    scaled with the photo, so the result is still empty right of its middle."""
    big = Image.open(SAMPLE).resize((1000, 1500), Image.Resampling.BILINEAR)
    response = requests.post(endpoint(keyed_url), headers={"X-Api-Key": KEY},
                             files={"image_file": ("big.jpg", encode(big))},
                             data={"roi": "0px 0px 500px 1500px"})
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    assert image.width * image.height <= PREVIEW
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[:, image.width // 2 + 1:].max() == 0 and alpha[:, :image.width // 2].max() > 0


def test_a_full_queue_is_removebg_429(u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    """One slot, no queue: a second request while the first runs gets remove.bg's rate-limit
    answer (429, Retry-After), which its clients back off from."""
    import threading
    import time

    settings = ServerSettings(model="u2netp", models=("u2netp",), concurrency=1, queue=0,
                              max_upload_bytes=MAX_UPLOAD, max_pixels=MAX_PIXELS)
    big = encode(Image.open(SAMPLE).resize((1000, 1500), Image.Resampling.BILINEAR))
    with live_server(settings) as base:
        first: list[requests.Response] = []
        worker = threading.Thread(target=lambda: first.append(requests.post(
            endpoint(base), files={"image_file": big}, data={"size": "auto"}, timeout=120)))
        worker.start()
        deadline = time.monotonic() + 30
        while requests.get(f"{base}/healthz").json()["in_flight"] == 0:
            assert time.monotonic() < deadline and worker.is_alive()
            time.sleep(0.02)
        second = post(base, {"size": "auto"}, key=None)
        worker.join(120)
    assert second.status_code == 429 and int(second.headers["Retry-After"]) >= 1
    assert errors(second)[0]["code"] == "rate_limit_exceeded"
    assert first[0].status_code == 200


@pytest.mark.skipif("shadow" not in Config.option_names(), reason="no shadows in this build")
@pytest.mark.parametrize("fields", [{"add_shadow": "true"}, {"shadow_type": "car"},
                                    {"shadow_type": "drop", "shadow_opacity": "80"}])
def test_shadows_darken_the_background(keyed_url: str, fields: dict[str, str]) -> None:
    """add_shadow / shadow_type over white: somewhere the plain result is white, the shadowed
    one is clearly darker; the subject's box stays where it was."""
    def picture(extra: dict[str, str]) -> tuple[np.ndarray, requests.Response]:
        response = post(keyed_url, {"size": "auto", "bg_color": "white", **extra})
        assert response.status_code == 200, response.text
        return np.asarray(Image.open(io.BytesIO(response.content)).convert("L"), np.int16), \
            response

    plain, plain_response = picture({})
    shaded, shaded_response = picture(fields)
    assert shaded[plain >= 250].min() < 200
    assert box(shaded_response) == box(plain_response)


def test_bg_image_file_and_webp(keyed_url: str) -> None:
    red = encode(Image.new("RGB", (40, 30), (220, 20, 30)))
    with SAMPLE.open("rb") as image:
        response = requests.post(endpoint(keyed_url), headers={"X-Api-Key": KEY},
                                 files={"image_file": image, "bg_image_file": ("bg.jpg", red)},
                                 data={"size": "auto"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    picture = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"), np.int16)
    assert picture.shape[:2] == sample_size()[::-1]
    assert np.abs(picture[:8, :8].reshape(-1, 3).mean(axis=0) - (220, 20, 30)).max() < 12
    webp = post(keyed_url, {"size": "auto", "format": "webp"})
    assert webp.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(webp.content)).mode == "RGBA"


def test_an_upload_over_the_limit(keyed_url: str) -> None:
    response = requests.post(endpoint(keyed_url), headers={"X-Api-Key": KEY},
                             files={"image_file": ("big.jpg", b"x" * (MAX_UPLOAD + 10))})
    assert response.status_code == 400
    assert errors(response)[0]["code"] == "file_too_large"
