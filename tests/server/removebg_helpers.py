"""Helpers for the remove.bg endpoint tests: a tiny local HTTP server that counts its hits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What the local server answers on one path: status, headers, body, and a delay."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class LocalSite:
    """The local server's routes and every path it was asked for."""

    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@contextmanager
def local_site() -> Iterator[LocalSite]:
    """An HTTP server on 127.0.0.1 answering ``site.routes`` (404 elsewhere)."""
    site = LocalSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits.append(self.path)
            route = site.routes.get(self.path, Route(404, b"not found"))
            time.sleep(route.delay)
            try:
                self.send_response(route.status)
                for name, value in {"Content-Length": str(len(route.body)),
                                    **route.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the fetcher gave up on purpose (limits)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
