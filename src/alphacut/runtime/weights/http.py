"""HTTP for the fetchers: open a URL, stream it with progress and hashes, retry with backoff.

Only the standard library (``urllib``). The network and TLS modules are imported inside the
functions, so importing this module costs nothing a cached run would notice.
"""

from __future__ import annotations

import functools
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from alphacut.runtime.weights.cache import BLOCK

if TYPE_CHECKING:
    import ssl

Progress = Callable[[str, int, int | None], None]
"""``progress(label, bytes_done, bytes_total_or_None)``, called as bytes arrive."""

T = TypeVar("T")

TIMEOUT_S = 30.0
BACKOFF_S = 0.5  # first wait between tries of one source; doubles each time
USER_AGENT = "alphacut (python urllib)"
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class Retry(Exception):
    """A transient failure (network error, truncated transfer): worth another try."""


class Fail(Exception):
    """A permanent failure of one source (HTTP 404, wrong hash, missing member)."""


@dataclass
class Transfer:
    """What one streamed response was: final URL, Content-Type, bytes copied, hashers."""

    url: str
    content_type: str
    size: int
    hashers: dict[str, Any]


def fail_types() -> tuple[type[BaseException], ...]:
    """Errors that make a source fail for good (bad data, not the network)."""
    import tarfile
    import zipfile
    import zlib

    return (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile,
            tarfile.TarError, zlib.error)


def with_retries(attempt: Callable[[], T], retries: int) -> T:
    """``attempt()``, again after each Retry (up to ``retries`` more times, backing off).

    Any other failure of the attempt (Fail, or bad data from ``fail_types``) raises Fail.
    """
    tries = 0
    while True:
        try:
            return attempt()
        except Retry as exc:
            if tries >= retries:
                raise Fail(f"{exc} (gave up after {tries + 1} tries)") from exc
            time.sleep(BACKOFF_S * 2**tries)
            tries += 1
        except Fail:
            raise
        except fail_types() as exc:
            raise Fail(f"{type(exc).__name__}: {exc}") from exc


def download_to(url: str, dest: Path, label: str, progress: Progress | None) -> None:
    """Stream ``url`` into the file ``dest`` (overwritten) and flush it to disk."""
    with open(dest, "wb") as out:
        stream(url, out, label=label, progress=progress)
        out.flush()
        os.fsync(out.fileno())


def stream(
    url: str,
    out: BinaryIO,
    *,
    accept: str | None = None,
    label: str = "",
    progress: Progress | None = None,
    algos: tuple[str, ...] = (),
) -> Transfer:
    """Copy ``url`` into ``out`` in 1 MiB blocks; a short body (vs Content-Length) is Retry."""
    import hashlib
    import http.client

    resp = open_url(url, accept)
    hashers = {algo: hashlib.new(algo) for algo in algos}
    with resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        label = f"{label} from {urllib.parse.urlsplit(url).netloc or 'file'}" if label else ""
        done = 0
        if progress is not None:
            progress(label, 0, total)
        while True:
            try:
                block = resp.read(BLOCK)
            except (OSError, http.client.HTTPException) as exc:
                raise Retry(f"transfer of {url} broke after {done} bytes: {exc!r}") from exc
            if not block:
                break
            out.write(block)
            for hasher in hashers.values():
                hasher.update(block)
            done += len(block)
            if progress is not None:
                progress(label, done, total)
        if total is not None and done != total:
            raise Retry(f"truncated transfer of {url}: {done} of {total} bytes")
        return Transfer(resp.geturl(), resp.headers.get("Content-Type", ""), done, hashers)


def open_url(url: str, accept: str | None) -> Any:
    """urlopen with our headers, timeout and TLS context; errors become Retry or Fail."""
    import http.client
    import socket
    import urllib.error
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "file"):
        raise Fail(f"unsupported URL {url!r}")
    if parts.scheme == "file":
        local = Path(urllib.request.url2pathname(parts.path))
        if local.is_dir():  # a PEP 503 index on disk
            url = (local / "index.html").as_uri()
    headers = {"User-Agent": USER_AGENT}
    if accept:
        headers["Accept"] = accept
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                      timeout=TIMEOUT_S, context=_tls_context())
    except urllib.error.HTTPError as exc:
        exc.close()
        kind = Retry if exc.code in RETRY_STATUS else Fail
        raise kind(f"HTTP {exc.code} {exc.reason} from {url}") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if parts.scheme == "file" or (
            isinstance(reason, socket.gaierror) and reason.errno in _no_such_host()
        ):
            raise Fail(f"{reason} ({url})") from exc
        raise Retry(f"{reason} ({url})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise Retry(f"{exc!r} ({url})") from exc


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA store costs ~0.1 s)."""
    import ssl

    return ssl.create_default_context()


def _no_such_host() -> frozenset[int]:
    """getaddrinfo error codes that mean the host does not exist (not worth a retry)."""
    import socket

    return frozenset(
        code for code in (getattr(socket, "EAI_NONAME", None),
                          getattr(socket, "EAI_NODATA", None)) if code is not None
    )
