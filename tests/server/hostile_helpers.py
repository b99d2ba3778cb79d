"""Raw-socket clients that misbehave on purpose (half a header, half a body, then silence),
and ways to watch what the server process holds (open file descriptors)."""

from __future__ import annotations

import os
import socket
import time


def connect(url: str, timeout: float = 20.0) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    return sock


def send_then_stall(url: str, data: bytes) -> socket.socket:
    """A connection that sent ``data`` and will send nothing more."""
    sock = connect(url)
    sock.sendall(data)
    return sock


def seconds_until_closed(sock: socket.socket, limit: float) -> tuple[float | None, bytes]:
    """How long until the server closes ``sock`` (None: still open after ``limit`` s), and
    what it sent before closing."""
    start = time.monotonic()
    received = b""
    sock.settimeout(0.2)
    while time.monotonic() - start < limit:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionError:
            return time.monotonic() - start, received
        if not chunk:
            return time.monotonic() - start, received
        received += chunk
    return None, received


def open_fds(pid: int) -> int:
    """File descriptors ``pid`` holds right now."""
    return len(os.listdir(f"/proc/{pid}/fd"))


HALF_HEADER = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def half_body(path: str = "/v1/remove", declared: int = 100_000, sent: int = 10) -> bytes:
    """Headers declaring ``declared`` body bytes, and only ``sent`` of them."""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {declared}\r\n\r\n").encode() + b"\xff" * sent
