"""Helpers for the server tests: a real uvicorn server on loopback, and test images."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from alphacut.interfaces.server.settings import MIB, ServerSettings

MAX_UPLOAD = 2 * MIB  # the shared test server's limits
MAX_PIXELS = 4_000_000


@contextmanager
def live_server(settings: ServerSettings) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn in a thread on 127.0.0.1; yields the URL."""
    import uvicorn

    from alphacut.interfaces.server.app import create_app
    from alphacut.interfaces.server.run import uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn_config(create_app(settings), settings, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until(lambda: server.started, 60, "uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(site: Path, *command: str, probe: str = "/") -> Iterator[str]:
    """Run ``python COMMAND... PORT --bind 127.0.0.1`` in ``site`` (an exported page's
    ``serve.py`` sends the thread headers, ``-m http.server`` does not); yields its URL once
    ``probe`` answers. For the web page's tests and browser benchmarks."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *command, str(port), "--bind", "127.0.0.1"],
                            cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url + probe, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def serve_subprocess(*flags: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``alphacut serve`` as a child process on a free port; yields (URL, process)."""
    port = free_port()
    cmd = [sys.executable, "-m", "alphacut.interfaces.cli", "serve", "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _healthy(url, proc), 90, "alphacut serve did not come up")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _healthy(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"alphacut serve exited with {proc.returncode}: {err}")
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(check: object, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(message)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def resized(path: Path, long_side: int, fmt: str = "PNG") -> bytes:
    """``path`` scaled so its long side is ``long_side``, encoded as ``fmt``."""
    image = Image.open(path).convert("RGB")
    scale = long_side / max(image.size)
    size = (round(image.width * scale), round(image.height * scale))
    return encode(image.resize(size, Image.Resampling.BILINEAR), fmt)


def noise_png(width: int, height: int, seed: int = 0) -> bytes:
    """An incompressible RGB PNG (about 3 bytes per pixel)."""
    rng = np.random.default_rng(seed)
    return encode(Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)),
                  "PNG", compress_level=0)


def alpha_of(png: bytes) -> np.ndarray:
    """The alpha channel of an RGBA (or the grey of an L) PNG as ``float32`` in [0, 1]."""
    image = Image.open(io.BytesIO(png))
    band = image.getchannel("A") if image.mode == "RGBA" else image.convert("L")
    return np.asarray(band, dtype=np.float32) / 255.0


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")
