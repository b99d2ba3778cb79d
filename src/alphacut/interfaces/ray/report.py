"""Counting a Ray run: the live line (done / failed / skipped / images per second) and the
summary with its exit code."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from alphacut.errors import AlphacutError

SHOWN_FAILURES = 20


@dataclass(frozen=True)
class Failure:
    src: str
    code: str
    message: str


@dataclass
class Summary:
    """What a run did. ``earlier``: done by a previous run of the same command (not redone)."""

    total: int = 0
    written: int = 0
    skipped: int = 0
    earlier: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    manifest: str = ""

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, else the largest exit code of the failures' error types."""
        codes = exit_codes()
        return max((codes.get(f.code, 1) for f in self.failures), default=0)

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def exit_codes() -> dict[str, int]:
    """Error code (``invalid_image``...) -> CLI exit code, from the typed errors."""
    codes: dict[str, int] = {}
    pending: list[type[AlphacutError]] = [AlphacutError]
    while pending:
        kind = pending.pop()
        codes.setdefault(kind.code, kind.exit_code)
        pending.extend(kind.__subclasses__())
    return codes


class Counter:
    """Counts outcomes as they stream back; draws a rich line on stderr when ``show``."""

    def __init__(self, summary: Summary, todo: int, *, show: bool) -> None:
        self.summary = summary
        self.todo = todo
        self.show = show
        self.start = time.perf_counter()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Counter:
        if self.show and self.todo:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("removing backgrounds"), BarColumn(),
                                      MofNCompleteColumn(), TextColumn("{task.description}"),
                                      console=Console(stderr=True))
            self._progress.start()
            self._task = self._progress.add_task(self._line(), total=self.todo)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.summary.seconds = time.perf_counter() - self.start
        if self._progress is not None:
            self._progress.update(self._task, description=self._line())
            self._progress.stop()

    def written(self) -> None:
        self.summary.written += 1
        self._advance()

    def failed(self, failure: Failure) -> None:
        self.summary.failures.append(failure)
        if self.show:
            print(f"alphacut: failed: {failure.message}", file=sys.stderr)
        self._advance()

    def _advance(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=self._line())

    def _line(self) -> str:
        s = self.summary
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        return (f"done {s.written} · failed {s.failed} · skipped {s.skipped + s.earlier} · "
                f"{s.written / elapsed:.2f} img/s")


def print_summary(summary: Summary, output: str, *, quiet: bool) -> None:
    """The closing lines on stderr: counts, then the failures (the first few)."""
    if quiet and not summary.failures:
        return
    s = summary
    print(f"alphacut: {s.written} written in {output}, {s.skipped} skipped, {s.earlier} done "
          f"earlier, {s.failed} failed ({s.rate:.2f} images/s; manifest {s.manifest})",
          file=sys.stderr)
    for failure in s.failures[:SHOWN_FAILURES]:
        print(f"  {failure.code}: {failure.message}", file=sys.stderr)
    if s.failed > SHOWN_FAILURES:
        print(f"  ... and {s.failed - SHOWN_FAILURES} more (all in the manifest)",
              file=sys.stderr)
