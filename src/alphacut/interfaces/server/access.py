"""Structured access logs and rate-limited error logs.

``AccessLogMiddleware`` writes one JSON line per request on the ``alphacut.access`` logger:
time, method, path, query (values of credential-like parameters redacted), status, bytes in
and out, milliseconds, client address and model. It never sees image bytes or headers.
Lines for error statuses (a flood of bad requests costs the server nothing to answer) and the
error loggers' records pass a ``RateLimit``: ``burst`` per ``period`` seconds, then a count of
what was dropped, so no flood can grow the log without bound.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

access_log = logging.getLogger("alphacut.access")
SECRET_PARAMS = frozenset({"key", "api_key", "apikey", "token", "access_token"})
MAX_LOGGED_CHARS = 512
LIMITED_LOGGERS = ("uvicorn.error", "uvicorn", "asyncio", "alphacut.server")

Scope = dict[str, Any]


class RateLimit:
    """Fixed-window counter: ``allow()`` is True for ``burst`` calls per ``period`` seconds;
    ``take_dropped()`` says how many were refused since it was last asked. Thread-safe."""

    def __init__(self, burst: int = 50, period: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.period = period
        self.clock = clock
        self._start = clock()
        self._count = 0
        self._dropped = 0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self.clock()
            if now - self._start >= self.period:
                self._start, self._count = now, 0
            self._count += 1
            if self._count > self.burst:
                self._dropped += 1
                return False
            return True

    def take_dropped(self) -> int:
        with self._lock:
            dropped, self._dropped = self._dropped, 0
            return dropped


class RateLimitFilter(logging.Filter):
    """Drops a logger's WARNING+ records past its ``RateLimit``; the next record let through
    says how many were dropped."""

    def __init__(self, limit: RateLimit | None = None) -> None:
        super().__init__()
        self.limit = limit or RateLimit()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        if not self.limit.allow():
            return False
        dropped = self.limit.take_dropped()
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} similar messages dropped)"
            record.args = ()
        return True


def install_log_limits(burst: int = 50, period: float = 10.0) -> None:
    """Put one ``RateLimitFilter`` on each error logger (once per logger)."""
    for name in LIMITED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimitFilter) for f in logger.filters):
            logger.addFilter(RateLimitFilter(RateLimit(burst, period)))


class DroppingQueueHandler(logging.handlers.QueueHandler):
    """Hands records to a writer thread through a bounded queue; drops them when it is full,
    so a slow or blocked stderr never stalls the event loop."""

    def __init__(self, capacity: int = 10_000) -> None:
        super().__init__(queue.Queue(capacity))
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


def log_to_stderr(logger: logging.Logger) -> logging.handlers.QueueListener:
    """Send ``logger``'s records (message only) to stderr from a writer thread; returns the
    started listener."""
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter("%(message)s"))
    handler = DroppingQueueHandler()
    listener = logging.handlers.QueueListener(handler.queue, writer)  # type: ignore[arg-type]
    listener.start()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return listener


def redacted_query(query: bytes) -> str:
    """The query string with credential-like values replaced, cut to a bounded length."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    safe = [(k, "REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    return urlencode(safe)[:MAX_LOGGED_CHARS]


class AccessLogMiddleware:
    """Pure ASGI middleware: one JSON line per HTTP request (see the module docstring)."""

    def __init__(self, app: Any, limit: RateLimit | None = None,
                 logger: logging.Logger = access_log) -> None:
        self.app = app
        self.limit = limit or RateLimit(burst=100, period=10.0)
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Callable[[], Any],
                       send: Callable[[dict[str, Any]], Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": None, "bytes_in": 0, "bytes_out": 0, "model": None}

        async def counting_receive() -> Any:
            message = await receive()
            seen["bytes_in"] += len(message.get("body", b""))
            return message

        async def watching_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"x-alphacut-model":
                        seen["model"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                seen["bytes_out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        finally:
            self._write(scope, seen, time.perf_counter() - start)

    def _write(self, scope: Scope, seen: dict[str, Any], seconds: float) -> None:
        status = seen["status"]
        if (status is None or status >= 400) and not self.limit.allow():
            return
        client = scope.get("client")
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "method": scope.get("method"),
            "path": str(scope.get("path", ""))[:MAX_LOGGED_CHARS],
            "query": redacted_query(scope.get("query_string", b"")), "status": status,
            "bytes_in": seen["bytes_in"], "bytes_out": seen["bytes_out"],
            "ms": round(seconds * 1000, 1),
            "client": f"{client[0]}:{client[1]}" if client else None, "model": seen["model"],
        }
        dropped = self.limit.take_dropped()
        if dropped:
            entry["dropped_before"] = dropped
        self.logger.info(json.dumps(entry, ensure_ascii=True))
