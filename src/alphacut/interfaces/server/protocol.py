"""uvicorn's h11 protocol with the deadlines and caps a hostile client needs.

uvicorn alone waits forever for a request's headers once one byte has arrived, and forever for
a body the app does not read; it counts no connections before they send a request. Here every
connection runs against one deadline per phase, armed when the phase starts and never pushed
back by a trickle of bytes:

- headers (from connect, or from the end of the previous response): ``header_timeout``;
- body (the request's body, read or not): ``body_timeout`` plus a grace, so the app's own
  deadline (``upload.stream_body``, 408 with a JSON body) normally fires first;
- a response the client does not read (the transport's write buffer stays full):
  ``send_timeout``.

An idle keep-alive connection is closed by uvicorn's own ``timeout_keep_alive``. A connection
beyond ``max_connections`` is answered 503 (with Retry-After) and closed at once, so stalled
clients cannot exhaust file descriptors.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from alphacut.interfaces.server.settings import ServerSettings

log = logging.getLogger("alphacut.server")
BODY_GRACE_S = 5.0


def _refusal() -> bytes:
    body = json.dumps({"error": "busy", "detail": "too many open connections; retry later"},
                      separators=(",", ":"))
    head = ("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
            f"retry-after: 1\r\nconnection: close\r\ncontent-length: {len(body)}\r\n\r\n")
    return (head + body).encode()


REFUSAL = _refusal()


class GuardedH11Protocol(H11Protocol):
    """H11Protocol with per-phase deadlines, a send deadline and a connection cap."""

    header_timeout = 10.0
    body_timeout = 60.0 + BODY_GRACE_S
    send_timeout = 30.0
    max_connections = 256

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: tuple[object, int] | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._send_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("refused a connection: %d open (limit %d)", len(self.connections) - 1,
                        self.max_connections)
            transport.write(REFUSAL)
            transport.close()
            return
        self._follow_phase()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_phase()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow_phase()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self._cancel_send_deadline()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_deadline is None:
            self._send_deadline = self.loop.call_later(self.send_timeout, self._expire, "send")

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel_send_deadline()

    # ---------------------------------------------------------------- deadlines

    def _follow_phase(self) -> None:
        """Arm the deadline of the phase the client is in, once per phase of each request."""
        if self.transport is None or self.transport.is_closing():
            return
        state = self.conn.their_state
        phase = (state, id(self.cycle))
        if phase == self._phase:
            return
        self._phase = phase
        self._cancel_deadline()
        if state is h11.IDLE:
            self._deadline = self.loop.call_later(self.header_timeout, self._expire, "headers")
        elif state is h11.SEND_BODY:
            self._deadline = self.loop.call_later(self.body_timeout, self._expire, "body")

    def _expire(self, phase: str) -> None:
        if self.transport.is_closing():
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        log.warning("closed a connection from %s: the %s took too long", client, phase)
        if phase == "send":
            self.transport.abort()
        else:
            self.transport.close()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _cancel_send_deadline(self) -> None:
        if self._send_deadline is not None:
            self._send_deadline.cancel()
            self._send_deadline = None


def guarded_protocol(settings: ServerSettings) -> type[GuardedH11Protocol]:
    """A GuardedH11Protocol subclass carrying ``settings``' timeouts and connection cap."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {
        "header_timeout": settings.header_timeout,
        "body_timeout": settings.body_timeout + BODY_GRACE_S,
        "send_timeout": settings.send_timeout,
        "max_connections": settings.max_connections,
    })
