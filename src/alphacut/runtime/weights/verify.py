"""A weights file's sha256, computed once per change of the file rather than once per run.

After hashing, a stamp (a small JSON file) records the sha256 with the file's identity: size,
mtime_ns, ctime_ns and inode. While the file keeps that identity the stamp is trusted (a stat
and a 200-byte read instead of reading the whole file); any write, truncation, replacement or
move changes the identity, so the file is hashed again. The ctime is set by the kernel on every
change and cannot be put back like the mtime can. Within one process a memo answers without
reading the stamp, and stands in for it when the stamp cannot be written (read-only cache).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from alphacut.runtime.weights.cache import sha256_file, write_text_atomic

FileId = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode) of a file."""

_MEMO: dict[str, tuple[FileId, str]] = {}


def sha256_of(path: Path, stamp: Path | None) -> str:
    """Hex sha256 of ``path``, hashed only if the file changed since it was last hashed.

    ``stamp`` is where this file's stamp lives (None: memo only). Raises OSError
    (FileNotFoundError if the file is gone).
    """
    key = str(path.absolute())
    now = file_id(path)
    memo = _MEMO.get(key)
    if memo is not None and memo[0] == now:
        return memo[1]
    digest = _read_stamp(stamp, now) if stamp is not None else None
    if digest is not None:
        _MEMO[key] = (now, digest)
        return digest
    digest = sha256_file(path)
    if file_id(path) == now:  # not changed while it was read: safe to record
        remember(path, digest, stamp, now)
    return digest


def remember(path: Path, digest: str, stamp: Path | None, ident: FileId | None = None) -> None:
    """Record that ``path`` (with identity ``ident``, default: as it is now) has ``digest``."""
    ident = ident or file_id(path)
    _MEMO[str(path.absolute())] = (ident, digest)
    if stamp is None:
        return
    size, mtime_ns, ctime_ns, inode = ident
    record = {"file": path.name, "size": size, "mtime_ns": mtime_ns, "ctime_ns": ctime_ns,
              "inode": inode, "sha256": digest}
    with contextlib.suppress(OSError):  # a read-only cache: the memo still holds it
        stamp.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(stamp, json.dumps(record) + "\n")


def forget(path: Path, stamp: Path | None) -> None:
    """Drop what is known about ``path`` (memo and stamp)."""
    _MEMO.pop(str(path.absolute()), None)
    if stamp is not None:
        with contextlib.suppress(OSError):
            stamp.unlink()


def clear_memo() -> None:
    """Forget this process's memo (stamps on disk stay): as if a new process started."""
    _MEMO.clear()


def file_id(path: Path) -> FileId:
    """(size, mtime_ns, ctime_ns, inode) of ``path``; raises OSError."""
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _read_stamp(stamp: Path, ident: FileId) -> str | None:
    """The sha256 a stamp records, if it exists, parses and matches ``ident``."""
    try:
        record = json.loads(stamp.read_text(encoding="utf-8"))
        recorded = (record["size"], record["mtime_ns"], record["ctime_ns"], record["inode"])
        digest = str(record["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if recorded != ident or len(digest) != 64:
        return None
    return digest if all(c in "0123456789abcdef" for c in digest) else None
