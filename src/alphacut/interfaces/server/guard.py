"""Who may talk to the server: a ``Host`` allowlist and optional API keys (ASGI middleware).

- ``HostGuardMiddleware``: a request whose ``Host`` is not a loopback name, the bound address
  or an ``--allow-host`` name gets 421 (400 without a ``Host``), so a web page that rebinds
  its own DNS name to 127.0.0.1 cannot reach a loopback server from the user's browser.
- ``ApiKeyMiddleware``: with keys set, every route except /healthz, the page (/) and
  /static needs ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` (401 otherwise). Keys are
  compared in constant time (``hmac.compare_digest``), every key every time. The page works
  through a cookie: opening ``/?key=KEY`` once answers 303 to ``/`` with an HttpOnly,
  SameSite=Strict cookie holding a token derived from the key (never the key itself).
  Under /v1.0/ (the remove.bg-compatible API) a refusal is remove.bg's 403 ``auth_failed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

COOKIE = "alphacut_session"
OPEN_PATHS = ("/healthz", "/")
REMOVEBG_PREFIX = "/v1.0/"  # the remove.bg-compatible API (removebg.py)
Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Any]


async def send_json_error(send: Send, status: int, code: str, detail: str,
                          headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Answer with the project's error body ``{"error": code, "detail": detail}``."""
    body = json.dumps({"error": code, "detail": detail}, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *headers]})
    await send({"type": "http.response.body", "body": body})


async def send_removebg_denied(send: Send) -> None:
    """remove.bg's answer to a missing or wrong ``X-Api-Key``: 403 ``auth_failed``."""
    body = json.dumps({"errors": [{"title": "API Key invalid", "code": "auth_failed"}]},
                      separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower case), if any."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def host_name(value: bytes) -> str:
    """``b"[::1]:8000"`` -> ``"::1"``; ``b"Example.COM.:80"`` -> ``"example.com"``."""
    text = value.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.rstrip(".")


class HostGuardMiddleware:
    """421 for a ``Host`` outside ``names`` (400 when there is none); ``"*"`` allows any."""

    def __init__(self, app: Any, names: frozenset[str]) -> None:
        self.app = app
        self.names = names
        self.any_host = "*" in names

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http" or self.any_host:
            await self.app(scope, receive, send)
            return
        value = header(scope, b"host")
        if value is None:
            await send_json_error(send, 400, "bad_request", "the request has no Host header")
        elif host_name(value) not in self.names:
            await send_json_error(send, 421, "host_not_allowed",
                                  "this server does not answer to that Host name; its "
                                  "operator can allow it with --allow-host NAME")
        else:
            await self.app(scope, receive, send)


def page_token(key: str) -> str:
    """The cookie value standing for ``key`` (an HMAC of a fixed label, keyed by ``key``)."""
    return hmac.new(key.encode(), b"alphacut page session", hashlib.sha256).hexdigest()


def _matches(candidate: str, secrets: tuple[bytes, ...]) -> bool:
    """Constant-time match against every secret (no early exit on the first hit)."""
    given = candidate.encode("utf-8", "replace")
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(given, secret)
    return found


class ApiKeyMiddleware:
    """401 unless the request carries one of ``keys`` (see the module docstring)."""

    def __init__(self, app: Any, keys: tuple[str, ...]) -> None:
        self.app = app
        self.keys = tuple(k.encode() for k in keys)
        self.tokens = tuple(page_token(k).encode() for k in keys)

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)  # CORS preflights carry no credentials
            return
        path = scope.get("path", "")
        if path == "/" and (key := _query_key(scope)) is not None:
            await self._open_page(key, send)
        elif path in OPEN_PATHS or path.startswith("/static/") or self._authorised(scope):
            await self.app(scope, receive, send)
        elif path.startswith(REMOVEBG_PREFIX):  # remove.bg's clients expect its 403 body
            await send_removebg_denied(send)
        else:
            await send_json_error(send, 401, "unauthorized",
                                  "this server needs an API key: send 'Authorization: Bearer "
                                  "KEY' or 'X-API-Key: KEY' (the page: open /?key=KEY once)",
                                  [(b"www-authenticate", b'Bearer realm="alphacut"')])

    def _authorised(self, scope: Scope) -> bool:
        auth = (header(scope, b"authorization") or b"").decode("latin-1")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and _matches(value.strip(), self.keys):
            return True
        api_key = header(scope, b"x-api-key")
        if api_key is not None and _matches(api_key.decode("latin-1").strip(), self.keys):
            return True
        token = _cookie(scope, COOKIE)
        return token is not None and _matches(token, self.tokens)

    async def _open_page(self, key: str, send: Send) -> None:
        if not _matches(key, self.keys):
            await send_json_error(send, 401, "unauthorized", "that API key is not valid here")
            return
        cookie = f"{COOKIE}={page_token(key)}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", b"/"), (b"set-cookie", cookie.encode()),
            (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def _query_key(scope: Scope) -> str | None:
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "key":
            return value
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = (header(scope, b"cookie") or b"").decode("latin-1")
    for item in raw.split(";"):
        key, _, value = item.strip().partition("=")
        if key == name:
            return value
    return None
