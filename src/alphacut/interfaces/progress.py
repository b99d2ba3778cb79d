"""Progress bars for the CLI (rich), as callbacks the library can call without printing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def download_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A ``(label, done_bytes, total_bytes)`` callback drawing a byte progress bar."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    tasks: dict[str, Any] = {}
    with Progress(*columns, transient=False) as progress:

        def update(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.update(tasks[label], completed=done, total=total)

        yield update


def rich_progress(*, fps: bool = False, transient: bool = False) -> Any:
    """The one bar layout (description, bar, done/total, [fps], elapsed, ETA) on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    rate = (TextColumn("{task.fields[fps]:.1f} fps"),) if fps else ()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *rate,
               TimeElapsedColumn(), TimeRemainingColumn())
    return Progress(*columns, console=Console(stderr=True), transient=transient)


@contextmanager
def file_progress(total: int, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """An ``advance(label)`` callback drawing a files-done bar on stderr."""
    if not enabled:
        yield lambda label: None
        return
    with rich_progress() as progress:
        task = progress.add_task("removing backgrounds", total=total)

        def advance(label: str) -> None:
            progress.update(task, advance=1, description=label[-40:])

        yield advance


class DownloadBar:
    """A progress callback that opens its own bar on the first byte (weights fetched lazily,
    maybe never) and closes it when the download completes."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      DownloadColumn(), TransferSpeedColumn(),
                                      console=Console(stderr=True))
            self._progress.start()
        if label not in self._tasks:
            self._tasks[label] = self._progress.add_task(label, total=total)
        self._progress.update(self._tasks[label], completed=done, total=total)
        if total is not None and done >= total:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()
