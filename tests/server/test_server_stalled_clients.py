"""Stalled and slow clients are cut off: header, body, keep-alive and connection limits, and
the upload byte budget (issue 12, item 3). Real uvicorn on loopback, raw sockets."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest
from hostile_helpers import (
    HALF_HEADER,
    connect,
    half_body,
    open_fds,
    seconds_until_closed,
    send_then_stall,
)
from server_helpers import live_server, rss_kib, serve_subprocess

from alphacut.interfaces.server.settings import MIB, ServerSettings

pytestmark = pytest.mark.model

HEADER_S, BODY_S, IDLE_S = 1.5, 2.0, 1.0


@pytest.fixture(scope="module")
def strict_url(u2netp_remover) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model="u2netp", models=("u2netp",), max_upload_bytes=2 * MIB,
                              upload_budget_bytes=3 * MIB, header_timeout=HEADER_S,
                              body_timeout=BODY_S, keepalive_timeout=IDLE_S)
    with live_server(settings) as url:
        yield url


def test_half_a_header_is_cut_off_at_the_header_deadline(strict_url: str) -> None:
    waited, _ = seconds_until_closed(send_then_stall(strict_url, HALF_HEADER), 10)
    assert waited is not None and waited < HEADER_S + 1.0


def test_a_header_trickle_does_not_push_the_deadline_back(strict_url: str) -> None:
    sock = send_then_stall(strict_url, b"GET /healthz HTTP/1.1\r\n")
    start = time.monotonic()
    closed = False
    while time.monotonic() - start < 8:
        try:
            sock.sendall(b"X-A: b\r\n")
        except OSError:
            closed = True
            break
        time.sleep(0.2)
    assert closed and time.monotonic() - start < HEADER_S + 1.5


def test_half_a_body_gets_408_with_a_json_body(strict_url: str) -> None:
    sock = send_then_stall(strict_url, half_body())
    waited, reply = seconds_until_closed(sock, 10)
    assert waited is not None and BODY_S - 0.5 < waited < BODY_S + 1.5
    assert reply.startswith(b"HTTP/1.1 408")
    assert b'"error":"body_timeout"' in reply and b"connection: close" in reply.lower()


def test_a_body_the_route_never_reads_is_cut_off_too(strict_url: str) -> None:
    sock = send_then_stall(strict_url, half_body("/healthz"))  # 405: the body is not read
    waited, reply = seconds_until_closed(sock, 15)
    assert reply.startswith(b"HTTP/1.1 405")
    assert waited is not None and waited < BODY_S + 7


def test_an_idle_keep_alive_connection_is_closed(strict_url: str) -> None:
    sock = send_then_stall(strict_url, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    waited, reply = seconds_until_closed(sock, 10)
    assert reply.startswith(b"HTTP/1.1 200")
    assert waited is not None and waited < IDLE_S + 1.0


def test_stalled_uploads_are_held_to_the_byte_budget(strict_url: str) -> None:
    first = send_then_stall(strict_url, half_body(declared=2 * MIB - 10, sent=1000))
    time.sleep(0.3)
    second = send_then_stall(strict_url, half_body(declared=2 * MIB - 10, sent=1000))
    _, reply = seconds_until_closed(second, 1.0)
    assert reply.startswith(b"HTTP/1.1 503"), reply[:200]
    assert b'"error":"busy"' in reply and b"retry-after:" in reply.lower()
    first.close()
    second.close()


def test_stalled_connections_cannot_exhaust_descriptors_or_memory() -> None:
    """40 half-headers and 10 nearly-whole 8 MiB uploads against a cap of 20 connections and a
    16 MiB budget: the server's fds and RSS stay bounded, /healthz answers after the deadline,
    and every stalled connection is gone once its deadline has passed."""
    with serve_subprocess("-m", "u2netp", "--models", "u2netp", "--max-connections", "20",
                          "--header-timeout", "2", "--body-timeout", "3", "--max-upload-mb",
                          "8", "--upload-budget-mb", "16") as (url, proc):
        fds, rss = open_fds(proc.pid), rss_kib(proc.pid)
        payload = b"\xff" * (8 * MIB - 10)
        head = half_body(declared=8 * MIB, sent=0)
        uploads = []
        for _ in range(10):
            sock = connect(url)
            sock.sendall(head)
            uploads.append(sock)
        for sock in uploads:
            with contextlib.suppress(OSError):  # refused with 503 and closed: the budget
                sock.sendall(payload)
        stalled = [send_then_stall(url, HALF_HEADER) for _ in range(40)]
        time.sleep(0.5)
        peak_fds, peak_rss = open_fds(proc.pid), rss_kib(proc.pid)
        refused = sum(seconds_until_closed(s, 0.3)[1].startswith(b"HTTP/1.1 503")
                      for s in stalled)
        time.sleep(4)
        assert httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        after_fds = open_fds(proc.pid)
        for sock in uploads + stalled:
            sock.close()
    print(f"fds {fds} -> peak {peak_fds} -> {after_fds}; RSS {rss // 1024} -> "
          f"{peak_rss // 1024} MiB; {refused} of 40 half-headers refused")
    assert peak_fds <= fds + 22 and after_fds <= fds + 2
    assert refused >= 20
    assert (peak_rss - rss) / 1024 < 40  # 2 uploads fit the budget: not 10 x 8 MiB
