"""The weights cache on disk: its folder, file names, temp files, atomic install, sweep, sha256.

A cache file only ever appears by atomic rename of a complete, hash-checked temp file in the
same folder; a killed download leaves a dot-named temp file that a later download sweeps.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from alphacut.errors import WeightsError
from alphacut.models.spec import ModelSpec

BLOCK = 1 << 20
"""Bytes per read and write when streaming or hashing (1 MiB)."""

STALE_TEMP_S = 24 * 3600
TEMP_SUFFIXES = (".part", ".whl", ".tgz")


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


def cache_target(spec: ModelSpec) -> Path:
    """Where the cache keeps the weights of ``spec`` (named after its pinned sha256)."""
    return cache_dir() / spec.filename


def sidecar_path(target: Path) -> Path:
    """``<target>.sha256``: the hash seen when an unpinned model was fetched."""
    return target.with_name(target.name + ".sha256")


def corrupt_path(target: Path) -> Path:
    """``<target>.corrupt``: where a cached file that failed verification is moved."""
    return target.with_name(target.name + ".corrupt")


def stamp_path(target: Path) -> Path:
    """``<target>.verified``: the stamp of a cache file's last verification."""
    return target.with_name(target.name + ".verified")


def user_stamp_path(own: Path) -> Path:
    """The stamp of a user's own model file: in the cache (their folder is left alone)."""
    import hashlib

    key = hashlib.sha256(str(own.absolute()).encode()).hexdigest()[:32]
    return cache_dir() / "stamps" / f"{key}.verified"


def recorded_sha256(target: Path) -> str | None:
    """The hash in ``target``'s sidecar (unpinned models), if there is a readable one."""
    try:
        text = sidecar_path(target).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    word = text.split()[0].lower() if text.split() else ""
    return word if len(word) == 64 and all(c in "0123456789abcdef" for c in word) else None


@contextlib.contextmanager
def temp_file(folder: Path, stem: str, suffix: str = ".part") -> Iterator[Path]:
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


def install(tmp: Path, target: Path) -> None:
    """Atomically rename the complete file ``tmp`` to ``target`` and persist the rename."""
    os.replace(tmp, target)
    fsync_dir(target.parent)


def write_text_atomic(target: Path, text: str) -> None:
    """Write a small text file so that readers see the old or the new content, never half."""
    with temp_file(target.parent, target.name) as tmp:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)


def sweep_stale_temps(folder: Path) -> None:
    """Remove temp files a killed process left behind (older than a day)."""
    cutoff = time.time() - STALE_TEMP_S
    for suffix in TEMP_SUFFIXES:
        for path in folder.glob(f".*{suffix}"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while block := src.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Persist a rename (best effort; not possible on every platform)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
