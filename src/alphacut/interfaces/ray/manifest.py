"""The run manifest: one JSON line per finished item, written by the driver as results arrive.

A rerun of the same command reads it and leaves out every item already done with the same
settings. Lines are appended and flushed one by one, so a driver killed at any moment loses
at most the line it was writing (a torn last line is ignored when read back).

Line kinds::

    {"run": 1733000000.1, "fp": "3f2a..."}                        a run started
    {"src": "...", "dest": "...", "status": "done", "fp": "..."}   an item finished
    {"src": "...", "status": "failed", "code": "invalid_image", "error": "...", "fp": "..."}
    {"end": 1733000100.2, "fp": "..."}                             a run ended (not killed)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from alphacut.config import Config
from alphacut.errors import OutputError

MANIFEST_NAME = ".alphacut-manifest.jsonl"


def fingerprint(config: Config, template: str) -> str:
    """What decides an output's bytes: every option but the thread count, and the naming."""
    settings = dataclasses.asdict(config)
    settings.pop("runtime", None)
    text = json.dumps({"config": settings, "name": template}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class History:
    """What earlier runs of this manifest recorded for one fingerprint."""

    done: dict[str, str] = field(default_factory=dict)  # source -> destination
    interrupted_since: float | None = None  # start of the run(s) killed before their end line


def read_history(path: Path, fp: str) -> History:
    """Done items and the start of an interrupted run, for settings ``fp``."""
    history = History()
    if not path.exists():
        return history
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            record = _parse(line)
            if record is None or record.get("fp") != fp:
                if record is not None and "run" in record:
                    history.interrupted_since = None  # other settings ran since
                continue
            _apply(history, record)
    return history


def _parse(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None  # a line torn by a killed driver
    return record if isinstance(record, dict) else None


def _apply(history: History, record: dict[str, Any]) -> None:
    if "run" in record:
        if history.interrupted_since is None:
            history.interrupted_since = float(record["run"])
    elif "end" in record:
        history.interrupted_since = None
    elif record.get("status") == "done" and "src" in record:
        history.done[str(record["src"])] = str(record.get("dest", ""))


class Manifest:
    """Append-only writer for one run; ``record`` flushes every line."""

    def __init__(self, path: Path, fp: str) -> None:
        self.path = path
        self.fp = fp
        self._handle: IO[str] | None = None

    def open(self) -> Manifest:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torn = _ends_without_newline(self.path)
            self._handle = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write the manifest {self.path}: {exc}") from exc
        if torn:
            self._handle.write("\n")
        self._write({"run": time.time()})
        return self

    def record(self, source: str, dest: str | None, status: str, *, code: str | None = None,
               error: str | None = None) -> None:
        line: dict[str, Any] = {"src": source, "dest": dest, "status": status}
        if code is not None:
            line.update(code=code, error=error)
        self._write(line)

    def close(self, *, finished: bool) -> None:
        if self._handle is None:
            return
        if finished:
            self._write({"end": time.time()})
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None

    def _write(self, line: dict[str, Any]) -> None:
        assert self._handle is not None, "Manifest.open() first"
        self._handle.write(json.dumps({**line, "fp": self.fp}) + "\n")
        self._handle.flush()


def _ends_without_newline(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


def default_manifest(output: str, *, single_file: bool) -> Path:
    """Beside a local output; for object storage, in the local cache (one per output URL)."""
    from alphacut.interfaces.ray.storage import is_url

    if not is_url(output):
        folder = Path(output).parent if single_file else Path(output)
        return folder / MANIFEST_NAME
    from alphacut.runtime.weights.cache import cache_dir

    digest = hashlib.sha256(output.rstrip("/").encode()).hexdigest()[:16]
    return cache_dir().parent / "manifests" / f"{digest}.jsonl"
