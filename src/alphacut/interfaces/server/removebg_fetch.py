"""Fetch ``image_url`` / ``bg_image_url`` for the remove.bg-compatible endpoint, without SSRF.

Off unless the operator enables it (``ServerSettings.allow_url_fetch``). When on, every hop:

- must be ``http`` or ``https`` with a host name (no user:password part);
- has its host resolved once here, and every address it resolves to must be public (not
  loopback, private, link-local, multicast, reserved, unspecified, CGNAT...; IPv6 forms that
  embed an IPv4 address are judged by it); one bad address refuses the URL;
- is connected to the vetted address itself (never resolved again by the HTTP client, so a
  DNS answer cannot change between the check and the connection), TLS verified against the
  host name;
- a redirect (at most ``redirects``) is a new hop, checked the same way.

The body is read under a byte cap (a larger ``Content-Length`` is refused before reading) and a
total deadline. Runs in a worker thread (blocking sockets).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
USER_AGENT = "alphacut-removebg-fetch"
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchRefused(Exception):
    """The URL may not be fetched (scheme, host, address) or the fetch failed; the message is
    safe to show to the client."""


def is_public_address(ip: Address) -> bool:
    """True only for globally routable unicast addresses. IPv6 forms that carry an IPv4
    address (mapped, NAT64 64:ff9b::/96, 6to4) are judged by that IPv4; Teredo is refused."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo is not None:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:
            ip = embedded
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return False
    if ip.is_private or ip.is_reserved or (ip.version == 4 and ip in _CGNAT):
        return False
    return ip.is_global


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch: bytes, total seconds, redirects, and which addresses are allowed
    (``allow``: public only; tests widen it to loopback to reach a local server)."""

    max_bytes: int
    timeout: float = 10.0
    redirects: int = 3
    allow: Callable[[Address], bool] = field(default=is_public_address)


@dataclass(frozen=True)
class Target:
    """One checked hop: scheme, host name (for Host and TLS), port, path, vetted address."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def fetch(url: str, policy: FetchPolicy) -> bytes:
    """The body at ``url`` (``FetchRefused`` if refused or failed), redirects re-checked."""
    deadline = time.monotonic() + policy.timeout
    for _ in range(policy.redirects + 1):
        target = check_url(url, policy.allow)
        status, location, body = _get(target, policy, deadline)
        if status not in REDIRECTS:
            if status != 200:
                raise FetchRefused(f"HTTP status {status}")
            return body
        if not location:
            raise FetchRefused(f"HTTP status {status} without a Location")
        url = urljoin(url, location)
    raise FetchRefused(f"more than {policy.redirects} redirects")


def check_url(url: str, allow: Callable[[Address], bool] = is_public_address) -> Target:
    """Parse and vet one URL: scheme, host, and every address the host resolves to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused("only http and https URLs are fetched")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("URLs with a user name or password are not fetched")
    port = port or (443 if scheme == "https" else 80)
    address = resolve_allowed(parts.hostname, port, allow)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, port, path, address)


def resolve_allowed(host: str, port: int,
                    allow: Callable[[Address], bool] = is_public_address) -> str:
    """The first address of ``host``; ``FetchRefused`` unless every address is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchRefused(f"cannot resolve host {host!r}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise FetchRefused(f"cannot resolve host {host!r}")
    refused = [str(a) for a in addresses if not allow(a)]
    if refused:
        raise FetchRefused(f"host {host!r} resolves to a non-public address ({refused[0]}); "
                           "only public addresses are fetched")
    return str(addresses[0])


def _get(target: Target, policy: FetchPolicy, deadline: float) -> tuple[int, str | None, bytes]:
    """One GET to the vetted address: (status, Location, body under the byte cap)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchRefused(f"no answer within {policy.timeout:g} s")
    conn = _connection(target, remaining)
    try:
        conn.request("GET", target.path, headers={"Host": _host_header(target),
                                                  "User-Agent": USER_AGENT, "Accept": "image/*"})
        response = conn.getresponse()
        if response.status in REDIRECTS:
            return response.status, response.getheader("Location"), b""
        return response.status, None, _read_capped(response, policy, deadline)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchRefused(f"download failed: {type(exc).__name__}") from None
    finally:
        conn.close()


def _read_capped(response: http.client.HTTPResponse, policy: FetchPolicy,
                 deadline: float) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchRefused(f"the image is over the limit of {policy.max_bytes} bytes")
    body = bytearray()
    while chunk := response.read(CHUNK):
        body += chunk
        if len(body) > policy.max_bytes:
            raise FetchRefused(f"the image is over the limit of {policy.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchRefused(f"the download took longer than {policy.timeout:g} s")
    return bytes(body)


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPS(target.host, target.port, timeout=timeout,
                            context=ssl.create_default_context(), address=target.address)
    return _PinnedHTTP(target.host, target.port, timeout=timeout, address=target.address)


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a fixed, already vetted address (the host name only names it)."""

    def __init__(self, *args: object, address: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed, already vetted address; the certificate must match the host name."""

    def __init__(self, *args: object, address: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
