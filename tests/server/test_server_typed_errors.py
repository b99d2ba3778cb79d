"""Malformed multipart bodies and extreme option values get typed 4xx answers, never a 500
(issue 12, items 5 and 6), and nothing a client sends makes the server download weights."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from server_helpers import live_server, resized

from alphacut.interfaces.server.settings import ServerSettings
from alphacut.models.registry import get_spec
from alphacut.runtime.weights import cache_dir
from helpers import PETS

pytestmark = pytest.mark.model


def multipart(boundary: str, image: bytes, close: bool = True) -> bytes:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    return head + image + (f"\r\n--{boundary}--\r\n".encode() if close else b"")


def post_form(url: str, boundary: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{url}/v1/mask", content=body, timeout=60,
                      headers={"Content-Type": f'multipart/form-data; boundary="{boundary}"'})


@pytest.mark.parametrize("length", [71, 257, 300])
def test_a_boundary_over_70_characters_is_a_400(server_url: str, length: int) -> None:
    boundary = "b" * length
    response = post_form(server_url, boundary, multipart(boundary, resized(PETS[0], 160, "JPEG")))
    assert response.status_code == 400 and response.json()["error"] == "bad_request"
    assert "boundary" in response.json()["detail"]


def test_a_70_character_boundary_is_fine(server_url: str) -> None:
    boundary = "-" * 20 + "aZ09'()+_,./:=? x" + "y" * 33
    assert len(boundary) == 70
    response = post_form(server_url, boundary, multipart(boundary, resized(PETS[0], 160, "JPEG")))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("cut", [0, 10, 200])
def test_a_body_without_its_closing_boundary_is_a_400(server_url: str, cut: int) -> None:
    body = multipart("xyz", resized(PETS[0], 160, "JPEG"), close=False)
    response = post_form(server_url, "xyz", body[:len(body) - cut])
    assert response.status_code == 400
    assert "closing boundary" in response.json()["detail"]


@pytest.mark.parametrize("option", [{"guided_radius": "2147483648"}, {"crop_margin": "1e23"},
                                    {"guided_eps": "nan"}, {"matting_band": "-1e308"},
                                    {"width": "99999999999999999999"}])
def test_extreme_option_values_are_a_422(server_url: str, option: dict[str, str]) -> None:
    path = "/v1/mask" if "width" in option else "/v1/remove"
    response = httpx.post(f"{server_url}{path}", params=option, timeout=60,
                          content=resized(PETS[0], 160, "JPEG"))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("length", ["12abc", "-5", "9" * 40])
def test_a_bad_content_length_is_a_4xx(server_url: str, length: str) -> None:
    from hostile_helpers import seconds_until_closed, send_then_stall

    sock = send_then_stall(server_url, (f"POST /v1/remove HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                        f"Content-Length: {length}\r\n\r\n").encode())
    _, reply = seconds_until_closed(sock, 5)
    assert reply.startswith(b"HTTP/1.1 4"), reply[:80]


# ------------------------------------------------------------------ no request-time download


class Registry(BaseHTTPRequestHandler):
    """A registry that has nothing and counts who asked."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Registry.hits.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def bare_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A cache holding only u2netp, and every registry pointed at a counting 404 server."""
    source = cache_dir() / get_spec("u2netp").filename
    monkeypatch.setenv("ALPHACUT_HOME", str(tmp_path))
    monkeypatch.delenv("ALPHACUT_OFFLINE", raising=False)
    shutil.copy(source, cache_dir() / source.name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    for var in ("ALPHACUT_PYPI_INDEX", "ALPHACUT_NPM_REGISTRY", "ALPHACUT_HF_ENDPOINT"):
        monkeypatch.setenv(var, base + "/")
    Registry.hits = []
    try:
        yield Registry.hits
    finally:
        server.shutdown()


def test_a_served_model_without_weights_answers_503_and_fetches_nothing(
        bare_cache: list[str], u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model="u2netp", models=("u2netp", "isnet-general-q"))
    with live_server(settings) as url:
        listed = {m["name"]: m for m in httpx.get(f"{url}/v1/models").json()["models"]}
        assert listed["isnet-general-q"]["cached"] is False
        for path in ("/v1/mask", "/v1/remove"):
            response = httpx.post(f"{url}{path}", params={"model": "isnet-general-q"},
                                  content=resized(PETS[0], 160, "JPEG"), timeout=60)
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "weights_missing"
            assert "Retry-After" in response.headers
            detail = response.json()["detail"]
            assert "/" not in detail.replace("/v1/models", "") and "sha256" not in detail
            assert get_spec("isnet-general-q").sha256[:12] not in detail
        ok = httpx.post(f"{url}/v1/mask", content=resized(PETS[0], 160, "JPEG"), timeout=60)
        assert ok.status_code == 200
    assert bare_cache == []  # no client request reached a registry


def test_serve_fetches_every_served_model_at_start_up(bare_cache: list[str]) -> None:
    """`alphacut serve` tries to fetch a missing allowlisted model before it listens (here the
    registry has nothing), warns, serves the rest, and never asks again on a request."""
    from server_helpers import serve_subprocess

    with serve_subprocess("-m", "u2netp", "--models", "u2netp,isnet-general-q") as (url, _):
        at_start = len(bare_cache)
        response = httpx.post(f"{url}/v1/mask", params={"model": "isnet-general-q"},
                              content=resized(PETS[0], 160, "JPEG"), timeout=60)
        assert response.status_code == 503 and response.json()["error"] == "weights_missing"
    assert at_start >= 1 and len(bare_cache) == at_start
