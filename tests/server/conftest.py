"""Fixtures for the server tests: real uvicorn servers on loopback running real u2netp."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

# Without the server extra there is nothing to test here: skip the folder, not fail it.
if not all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "httpx")):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def server_url(u2netp_remover) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A server with u2netp as default, 2 MiB uploads, 4 MP images, a queue of 4."""
    from server_helpers import MAX_PIXELS, MAX_UPLOAD, live_server

    from alphacut.interfaces.server.settings import ServerSettings

    settings = ServerSettings(model="u2netp", models=("u2netp",), concurrency=1, queue=4,
                              max_upload_bytes=MAX_UPLOAD, max_pixels=MAX_PIXELS, timeout=60)
    with live_server(settings) as url:
        yield url
