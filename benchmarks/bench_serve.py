"""A static folder served on loopback by a child Python process, for the browser benchmarks."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(site: Path, *command: str, probe: str = "/") -> Iterator[str]:
    """Run ``python COMMAND... PORT --bind 127.0.0.1`` in ``site`` (``serve.py`` sends the
    thread headers, ``-m http.server`` does not); yields its URL once ``probe`` answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *command, str(port), "--bind", "127.0.0.1"],
                            cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + probe, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
