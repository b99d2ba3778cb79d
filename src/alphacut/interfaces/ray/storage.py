"""Where bytes live: local paths and object storage URLs (``s3://...``) behind one small API.

Object storage goes through fsspec (s3fs for ``s3://``), the same filesystem layer Ray Data
accepts. Endpoint and credentials come from the usual AWS variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``...), so the driver and every worker resolve them the same way.

Writes are all-or-nothing: a local file is written beside its target and renamed over it; an
object is written with one PUT, which S3 makes visible whole or not at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from alphacut.errors import InvalidImage, OutputError
from alphacut.formats import INPUT_SUFFIXES

URL_PATTERN = re.compile(r"^([a-z][a-z0-9+.-]*)://(.+)$")
TEMP_PATTERN = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # core.encode.write_atomic's temp names


def split_url(location: str) -> tuple[str | None, str]:
    """``s3://bucket/key`` -> (``"s3"``, ``"bucket/key"``); a local path -> (None, path)."""
    match = URL_PATTERN.match(location)
    if match is None:
        return None, location
    return match.group(1), match.group(2).rstrip("/")


def is_url(location: str) -> bool:
    return split_url(location)[0] is not None


def join(root: str, rel: PurePosixPath) -> str:
    """``root`` (a URL or a local folder) with a relative path appended."""
    scheme, path = split_url(root)
    if scheme is None:
        return str(Path(root) / rel)
    return f"{scheme}://{PurePosixPath(path) / rel}"


@lru_cache(maxsize=8)
def filesystem(scheme: str) -> Any:
    """The fsspec filesystem for ``scheme`` (one per process; s3fs for ``s3``)."""
    import fsspec

    try:
        return fsspec.filesystem(scheme, **_options(scheme))
    except (ImportError, ValueError) as exc:
        raise OutputError(f"{scheme}:// needs its fsspec backend (pip install "
                          f"'alphacut[ray]'): {exc}") from exc


def _options(scheme: str) -> dict[str, Any]:
    if scheme != "s3":
        return {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return {"endpoint_url": endpoint} if endpoint else {}


# ---------------------------------------------------------------- listing


@dataclass(frozen=True)
class Found:
    """One input image: its location (path or URL) and its path below the input root."""

    location: str
    rel: PurePosixPath


def list_images(location: str, *, recursive: bool = True) -> Iterator[Found]:
    """Images under an object-storage prefix (or the object itself), sorted; local inputs
    are expanded by ``interfaces.batch.expand_inputs`` instead."""
    scheme, path = split_url(location)
    if scheme is None:
        raise ValueError(f"not a URL: {location}")
    fs = filesystem(scheme)
    fs.invalidate_cache()  # a listing must see what earlier runs wrote
    if fs.isfile(path):
        yield Found(location, PurePosixPath(PurePosixPath(path).name))
        return
    keys = fs.find(path) if recursive else fs.ls(path, detail=False)
    for key in sorted(str(k) for k in keys):
        rel = PurePosixPath(key).relative_to(path)
        if rel.suffix.lower() in INPUT_SUFFIXES and not rel.name.startswith("."):
            yield Found(f"{scheme}://{key}", rel)


def modified_times(root: str) -> dict[str, float]:
    """Every file below ``root`` (a folder or prefix) -> its modification time (epoch s).

    One listing instead of a request per output: on object storage that is what keeps
    planning a 100k-image run cheap.
    """
    scheme, path = split_url(root)
    if scheme is None:
        return _local_times(Path(root))
    fs = filesystem(scheme)
    fs.invalidate_cache()
    if not fs.exists(path):
        return {}
    found = fs.find(path, detail=True)
    return {f"{scheme}://{key}": _mtime(info) for key, info in found.items()}


def _local_times(root: Path) -> dict[str, float]:
    if root.is_file():
        return {str(root): root.stat().st_mtime}
    times: dict[str, float] = {}
    for folder, _, files in os.walk(root):
        for name in files:
            full = os.path.join(folder, name)
            try:
                times[full] = os.stat(full).st_mtime
            except OSError:
                continue
    return times


def _mtime(info: dict[str, Any]) -> float:
    stamp = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if stamp is None:
        return 0.0
    return stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)


def sweep_temps(root: str) -> int:
    """Remove temporary files a killed writer left below a local ``root``; how many."""
    if is_url(root) or not Path(root).is_dir():
        return 0  # an object PUT leaves nothing half-written behind
    removed = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if TEMP_PATTERN.match(name):
                with suppress(OSError):
                    os.remove(os.path.join(folder, name))
                    removed += 1
    return removed


# ---------------------------------------------------------------- bytes in and out


def read_bytes(location: str) -> bytes:
    """The whole file or object; ``InvalidImage`` when it cannot be read."""
    scheme, path = split_url(location)
    try:
        if scheme is None:
            return Path(path).read_bytes()
        return bytes(filesystem(scheme).cat_file(path))
    except FileNotFoundError as exc:
        raise InvalidImage(f"{location}: no such file") from exc
    except OSError as exc:
        raise InvalidImage(f"{location}: cannot read: {exc}") from exc


def write_once(location: str, data: bytes) -> None:
    """Write ``data`` whole: temp file + rename locally, one PUT for an object."""
    scheme, path = split_url(location)
    if scheme is None:
        from alphacut.core.encode import write_atomic

        write_atomic(path, data)
        return
    try:
        filesystem(scheme).pipe_file(path, data)
    except OSError as exc:
        raise OutputError(f"cannot write {location}: {exc}") from exc
