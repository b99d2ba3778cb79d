"""Who may talk to the server: the Host allowlist, API keys, and access logs that never hold a
key or image bytes, rate-limited when a flood of bad requests comes (issue 12, item 3)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from hostile_helpers import seconds_until_closed, send_then_stall
from server_helpers import live_server, resized

from alphacut.interfaces.cli import build_parser
from alphacut.interfaces.server.access import RateLimit, RateLimitFilter
from alphacut.interfaces.server.run import settings_from_args
from alphacut.interfaces.server.settings import ServerSettings
from helpers import PETS

pytestmark = pytest.mark.model

KEY = "k3y-0123456789abcdef"
OTHER_KEY = "other-0123456789abcdef"


class Lines(logging.Handler):
    """Collects the messages a logger emits."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture()
def access_lines() -> Iterator[list[str]]:
    logger = logging.getLogger("alphacut.access")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="module")
def keyed_url(u2netp_remover) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model="u2netp", models=("u2netp",), api_keys=(KEY, OTHER_KEY),
                              allowed_hosts=("alphacut.example",))
    with live_server(settings) as url:
        yield url


# ------------------------------------------------------------------ Host allowlist


@pytest.mark.parametrize("host", ["evil.example", "attacker.test:8000", "127.0.0.1.evil.example"])
def test_a_foreign_host_gets_421(server_url: str, host: str) -> None:
    response = httpx.get(f"{server_url}/v1/models", headers={"Host": host})
    assert response.status_code == 421
    assert response.json()["error"] == "host_not_allowed"
    assert host not in response.text


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:1234", "[::1]:80", "LOCALHOST."])
def test_loopback_names_are_answered(server_url: str, host: str) -> None:
    assert httpx.get(f"{server_url}/healthz", headers={"Host": host}).status_code == 200


def test_allow_host_adds_a_name(keyed_url: str) -> None:
    response = httpx.get(f"{keyed_url}/healthz", headers={"Host": "alphacut.example:443"})
    assert response.status_code == 200


def test_no_host_header_is_a_400(server_url: str) -> None:
    sock = send_then_stall(server_url, b"GET /healthz HTTP/1.0\r\n\r\n")
    _, reply = seconds_until_closed(sock, 5)
    assert reply.startswith(b"HTTP/1.1 400") and b'"error":"bad_request"' in reply


# ------------------------------------------------------------------ API keys


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-0123456789abcdef"},
                                     {"X-API-Key": KEY[:-1]}, {"Authorization": KEY}])
def test_without_a_valid_key_the_api_answers_401(keyed_url: str, headers: dict) -> None:
    for path in ("/v1/models", "/v1/options", "/metrics", "/openapi.json"):
        response = httpx.get(f"{keyed_url}{path}", headers=headers)
        assert response.status_code == 401, path
        assert response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    image = resized(PETS[0], 160, "JPEG")
    assert httpx.post(f"{keyed_url}/v1/mask", content=image, headers=headers,
                      timeout=60).status_code == 401


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"},
                                     {"authorization": f"bearer {OTHER_KEY}"},
                                     {"X-API-Key": KEY}])
def test_either_header_with_any_key_is_let_in(keyed_url: str, headers: dict) -> None:
    assert httpx.get(f"{keyed_url}/v1/models", headers=headers).status_code == 200
    response = httpx.post(f"{keyed_url}/v1/mask", content=resized(PETS[0], 160, "JPEG"),
                          headers=headers, timeout=60)
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")


def test_health_and_the_page_stay_open(keyed_url: str) -> None:
    assert httpx.get(f"{keyed_url}/healthz").status_code == 200
    assert httpx.get(f"{keyed_url}/").status_code == 200
    assert httpx.get(f"{keyed_url}/static/main.js").status_code == 200


def test_the_page_works_through_a_cookie(keyed_url: str) -> None:
    with httpx.Client(base_url=keyed_url, timeout=60) as browser:
        refused = browser.get("/?key=not-the-key-0123456789")
        assert refused.status_code == 401 and not browser.cookies
        opened = browser.get(f"/?key={KEY}")
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and KEY not in cookie
        assert browser.get("/v1/options").status_code == 200
        response = browser.post("/v1/remove", content=resized(PETS[0], 160, "JPEG"))
        assert response.status_code == 200


def test_keys_come_from_flags_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHACUT_API_KEYS", f" {OTHER_KEY} ,,{KEY}")
    args = build_parser().parse_args(["serve", "--api-key", KEY, "--allow-host", "a.example"])
    settings = settings_from_args(args)
    assert settings.api_keys == (KEY, OTHER_KEY)
    assert settings.allowed_hosts == ("a.example",)
    assert KEY not in repr(settings)


# ------------------------------------------------------------------ access log


def test_one_json_line_per_request_without_keys_or_image_bytes(
        keyed_url: str, access_lines: list[str]) -> None:
    image = resized(PETS[0], 160, "JPEG")
    response = httpx.post(f"{keyed_url}/v1/remove", params={"preset": "fast"}, content=image,
                          headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert response.status_code == 200
    httpx.get(f"{keyed_url}/", params={"key": KEY})
    deadline = time.monotonic() + 10  # lines go through the log's writer thread
    while len(access_lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(access_lines) == 2
    entry = json.loads(access_lines[0])
    assert entry["method"] == "POST" and entry["path"] == "/v1/remove"
    assert entry["query"] == "preset=fast" and entry["status"] == 200
    assert entry["bytes_in"] == len(image) and entry["bytes_out"] == len(response.content)
    assert entry["model"] == "u2netp" and entry["ms"] > 0
    assert entry["client"].startswith("127.0.0.1:")
    assert "REDACTED" in json.loads(access_lines[1])["query"]
    everything = "\n".join(access_lines)
    assert KEY not in everything and len(everything) < 1000


def test_a_flood_of_bad_requests_cannot_grow_the_log_without_bound(
        access_lines: list[str]) -> None:
    from starlette.testclient import TestClient

    from alphacut.interfaces.server.access import AccessLogMiddleware
    from alphacut.interfaces.server.app import create_app

    app = create_app(ServerSettings(model="u2netp", models=("u2netp",), preload=False,
                                    access_log=False))
    now = [0.0]
    limit = RateLimit(burst=10, period=10.0, clock=lambda: now[0])
    with TestClient(AccessLogMiddleware(app, limit=limit), base_url="http://127.0.0.1") as client:
        for _ in range(300):
            client.get("/no-such-page")
        assert len(access_lines) == 10
        now[0] = 10.0  # the next window
        assert client.get("/healthz").status_code == 200
    assert len(access_lines) == 11
    assert json.loads(access_lines[-1])["dropped_before"] == 290


def test_the_error_log_filter_drops_past_its_burst_and_says_how_many() -> None:
    logger = logging.getLogger("alphacut.test.flood")
    lines = Lines()
    logger.addHandler(lines)
    logger.propagate = False
    limit = RateLimit(burst=5, period=0.3)
    logger.addFilter(RateLimitFilter(limit))
    for i in range(100):
        logger.warning("bad request %d", i)
    assert len(lines.messages) == 5
    time.sleep(0.35)
    logger.warning("later")
    assert lines.messages[-1] == "later (95 similar messages dropped)"
