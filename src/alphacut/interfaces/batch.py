"""Batch: many inputs to many outputs, each failure reported, the rest carried on."""

from __future__ import annotations

import fnmatch
import glob
import os
import string
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from alphacut.errors import AlphacutError, InvalidImage, OutputError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic",
                  ".heif", ".avif", ".jfif", ".jpe"}
TEMPLATE_FIELDS = ("stem", "name", "ext", "parent", "model", "relparent")


@dataclass(frozen=True)
class Job:
    """One input file and where its output goes; ``rel`` keeps folder structure."""

    source: Path
    rel: Path


@dataclass
class Outcome:
    job: Job
    output: Path | None = None
    error: AlphacutError | None = None
    skipped: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def expand_inputs(inputs: Iterable[str], *, recursive: bool = True) -> Iterator[Job]:
    """Files, globs and folders -> jobs, in a stable order; missing inputs become jobs too so
    they are reported as failures rather than silently dropped."""
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            yield from _folder_jobs(path, recursive)
        elif any(ch in item for ch in "*?["):
            matches = sorted(glob.glob(item, recursive=True))
            for match in matches:
                if Path(match).is_file():
                    yield Job(Path(match), Path(Path(match).name))
            if not matches:
                yield Job(path, Path(path.name))
        else:
            yield Job(path, Path(path.name))


def _folder_jobs(folder: Path, recursive: bool) -> Iterator[Job]:
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, files in walker:
        dirs.sort()
        for name in sorted(files):
            source = Path(root) / name
            if source.suffix.lower() in IMAGE_SUFFIXES and not name.startswith("."):
                yield Job(source, source.relative_to(folder))


def output_path(job: Job, out_dir: Path, template: str, ext: str, model: str) -> Path:
    """Fill the naming template: {stem} {name} {ext} {parent} {relparent} {model}."""
    fields = {"stem": job.source.stem, "name": job.source.name, "ext": ext.lstrip("."),
              "parent": job.source.parent.name, "model": model,
              "relparent": str(job.rel.parent) if str(job.rel.parent) != "." else ""}
    unknown = [f for _, f, _, _ in string.Formatter().parse(template) if f and f not in fields]
    if unknown:
        from alphacut.errors import InvalidOption

        raise InvalidOption(f"unknown template field(s) {unknown}; valid: {TEMPLATE_FIELDS}")
    name = template.format(**fields)
    return out_dir / job.rel.parent / name


def run_batch(jobs: list[Job], work: Callable[[Job], Outcome], *, workers: int = 1,
              on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run ``work`` on every job with ``workers`` threads; errors become outcomes."""

    def guarded(job: Job) -> Outcome:
        try:
            return work(job)
        except AlphacutError as exc:
            return Outcome(job, error=exc)
        except OSError as exc:
            return Outcome(job, error=OutputError(f"{job.source}: {exc}"))
        except Exception as exc:  # a bug must not stop the batch; report it as a failure
            return Outcome(job, error=InvalidImage(f"{job.source}: unexpected {exc!r}"))

    outcomes: list[Outcome] = []
    if workers <= 1:
        for job in jobs:
            outcome = guarded(job)
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
        return outcomes
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for outcome in pool.map(guarded, jobs):
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    return outcomes


def is_excluded(path: Path, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(path.name, p) for p in patterns)
