"""Bad input and overload, one status code at a time, each with the JSON error body."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image
from server_helpers import MAX_PIXELS, MAX_UPLOAD, encode, live_server, resized

from alphacut.interfaces.server.settings import ServerSettings
from helpers import PETS

pytestmark = pytest.mark.model

PET = PETS[0]


def post(url: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{url}{path}", timeout=120, **kwargs)  # type: ignore[arg-type]


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == code and body["detail"]
    return body  # type: ignore[no-any-return]


def raw_http(url: str, head: str, body_chunks: Iterator[bytes] | None = None) -> bytes:
    """Send a hand-made request (maybe never finishing its body); return the response."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        try:
            for chunk in body_chunks or ():
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: exactly what we want to see
        return read_response(sock)


def read_response(sock: socket.socket) -> bytes:
    """Status line, headers and the Content-Length body (or up to EOF)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data) < _expected_length(data):
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def _expected_length(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(head) + 4 + int(line.split(b":")[1])
    return len(data)


# ------------------------------------------------------------------ 413


def test_413_declared_body_too_large_before_any_body_is_sent(server_url) -> None:
    start = time.perf_counter()
    reply = raw_http(server_url, f"POST /v1/remove HTTP/1.1\nHost: 127.0.0.1\n"
                     f"Content-Type: image/jpeg\nContent-Length: {500 * 1024 * 1024}\n")
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"error":"image_too_large"' in reply
    assert time.perf_counter() - start < 5


def test_413_multipart_too_large(server_url) -> None:
    reply = raw_http(server_url, f"POST /v1/mask HTTP/1.1\nHost: 127.0.0.1\nContent-Type: "
                     f"multipart/form-data; boundary=b\nContent-Length: {3 * MAX_UPLOAD}\n")
    assert reply.startswith(b"HTTP/1.1 413")


def test_413_chunked_body_cut_off_at_the_limit(server_url) -> None:
    chunk = b"\xff" * 65536
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    many = (framed for _ in range(4 * MAX_UPLOAD // len(chunk)))
    reply = raw_http(server_url, "POST /v1/remove HTTP/1.1\nHost: 127.0.0.1\n"
                     "Content-Type: image/jpeg\nTransfer-Encoding: chunked\n", many)
    assert reply.startswith(b"HTTP/1.1 413")


def test_413_over_pixel_limit(server_url) -> None:
    bomb = encode(Image.new("RGB", (2100, 2000), (10, 20, 30)), "PNG")
    assert len(bomb) < 100_000
    body = assert_error(post(server_url, "/v1/remove", content=bomb), 413, "image_too_large")
    assert str(MAX_PIXELS) in body["detail"]


def test_413_mask_size_over_pixel_limit(server_url) -> None:
    response = post(server_url, "/v1/mask?width=4000&height=4000", content=resized(PET, 160))
    assert_error(response, 413, "image_too_large")


def test_client_cannot_raise_the_pixel_limit(server_url) -> None:
    bomb = encode(Image.new("RGB", (2100, 2000)), "PNG")
    response = post(server_url, f"/v1/remove?max_pixels={MAX_PIXELS * 10}", content=bomb)
    assert_error(response, 413, "image_too_large")


# ------------------------------------------------------------------ 415 / 422 / 400 / 404


def test_415_not_an_image(server_url) -> None:
    response = post(server_url, "/v1/remove", content=b"%PDF-1.7\n" + b"hello " * 100)
    assert_error(response, 415, "unsupported_image")


def test_422_corrupt_image(server_url) -> None:
    corrupt = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    assert_error(post(server_url, "/v1/remove", content=corrupt), 422, "invalid_image")


def test_422_truncated_image(server_url) -> None:
    data = PET.read_bytes()
    response = post(server_url, "/v1/remove", files={"file": ("cut.jpg", data[: len(data) // 2])})
    assert_error(response, 422, "invalid_image")


def test_422_empty_body(server_url) -> None:
    assert_error(post(server_url, "/v1/remove", content=b""), 422, "invalid_image")


def test_422_unknown_option_lists_valid_ones(server_url) -> None:
    response = post(server_url, "/v1/remove?colour=red", content=PET.read_bytes())
    detail = assert_error(response, 422, "invalid_option")["detail"]
    assert "colour" in detail
    for valid in ("bg", "preset", "format", "crop", "mask_only"):
        assert valid in detail


@pytest.mark.parametrize("query,code", [("preset=ultra", "invalid_option"),
                                        ("crop=maybe", "invalid_option"),
                                        ("quality=high", "invalid_option"),
                                        ("format=gif", "invalid_option"),
                                        ("model=u2net", "model_not_served")])
def test_422_bad_option_values(server_url, query, code) -> None:
    assert_error(post(server_url, f"/v1/remove?{query}", content=PET.read_bytes()), 422, code)


def test_422_background_path_is_refused(server_url) -> None:
    """A bg path would composite a file from the server's disk: never."""
    response = post(server_url, "/v1/remove?bg=/etc/hosts", content=PET.read_bytes())
    assert "colour" in assert_error(response, 422, "invalid_option")["detail"]


def test_422_operator_options_are_refused(server_url) -> None:
    response = post(server_url, "/v1/remove?threads=64", content=PET.read_bytes())
    assert "operator" in assert_error(response, 422, "invalid_option")["detail"]


def test_400_multipart_without_file(server_url) -> None:
    response = post(server_url, "/v1/remove", files={"other": ("x.txt", b"x")})
    assert_error(response, 400, "bad_request")
    response = post(server_url, "/v1/remove", data={"preset": "fast"},
                    files={"note": (None, b"just a field")})
    assert_error(response, 400, "bad_request")


def test_404_and_405_are_json(server_url) -> None:
    assert_error(httpx.get(f"{server_url}/v2/nothing"), 404, "not_found")
    assert_error(httpx.get(f"{server_url}/v1/remove"), 405, "method_not_allowed")


# ------------------------------------------------------------------ 503 / 504


def slow_image() -> bytes:
    """A 2400 px photo: a second or more of refinement work even on a fast machine."""
    image = Image.open(PET).convert("RGB")
    return encode(image.resize((2400, 1600), Image.Resampling.BILINEAR), quality=90)


def wait_for_in_flight(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/healthz").json()["in_flight"] >= 1:
            return
        time.sleep(0.02)
    raise TimeoutError("the slow request never started")


@pytest.fixture(scope="module")
def busy_url(u2netp_remover) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model="u2netp", models=("u2netp",), concurrency=1, queue=0)
    with live_server(settings) as url:
        yield url


def test_503_when_queue_full_with_retry_after(busy_url) -> None:
    """Concurrency 1, queue 0, one slow request in flight: the next one is refused at once,
    and the event loop keeps answering meanwhile."""
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(post, busy_url, "/v1/remove?preset=balanced", content=slow_image())
        wait_for_in_flight(busy_url)
        start = time.perf_counter()
        health = httpx.get(f"{busy_url}/healthz")
        assert health.status_code == 200 and time.perf_counter() - start < 1.0
        start = time.perf_counter()
        refused = post(busy_url, "/v1/remove", content=PET.read_bytes())
        assert time.perf_counter() - start < 2.0
        assert_error(refused, 503, "busy")
        assert int(refused.headers["Retry-After"]) >= 1
        assert slow.result().status_code == 200
    assert post(busy_url, "/v1/mask", content=resized(PET, 160)).status_code == 200


def test_504_timeout_frees_its_slot_when_the_work_ends(u2netp_remover) -> None:
    settings = ServerSettings(model="u2netp", models=("u2netp",), timeout=0.3)
    with live_server(settings) as url:
        response = post(url, "/v1/remove?preset=balanced", content=slow_image())
        assert_error(response, 504, "timeout")
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/healthz").json()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"{url}/healthz").json()["in_flight"] == 0
