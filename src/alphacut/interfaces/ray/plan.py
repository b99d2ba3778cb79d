"""The driver's plan: inputs -> (source, destination) pairs, minus what is already settled.

The naming is the local batch's (``naming.plan_destinations`` over
``batch.output_path``), applied to object-storage keys as to paths. Then each item is settled
before any cluster work when it can be:

1. done by an earlier run with the same settings (the manifest) and its output still there:
   left out;
2. its output written by a run that was killed before recording it (the output is newer than
   the start of that interrupted run; writes are all-or-nothing, so it is whole): recorded
   as done, not redone;
3. the output would replace an input: failed;
4. the output exists: skipped with ``skip_existing``, failed without ``overwrite``;
5. otherwise: to run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from alphacut.errors import InvalidOption, OutputError
from alphacut.interfaces.batch import Job, expand_inputs
from alphacut.interfaces.ray.manifest import History
from alphacut.interfaces.ray.storage import is_url, list_images, modified_times, split_url


@dataclass(frozen=True)
class Rules:
    """How existing outputs are treated, as the local batch's flags say."""

    skip_existing: bool = False
    overwrite: bool = False


@dataclass
class Settled:
    """An item decided on the driver: ``status`` is done, skipped or failed."""

    src: str
    dest: str | None
    status: str
    error: Exception | None = None


@dataclass
class Plan:
    todo: list[dict[str, str]] = field(default_factory=list)  # rows: src, dest
    settled: list[Settled] = field(default_factory=list)
    earlier: int = 0  # done by an earlier run: left out entirely

    @property
    def total(self) -> int:
        return len(self.todo) + len(self.settled) + self.earlier


def find_jobs(inputs: Iterable[str], *, recursive: bool = True) -> list[tuple[str, Job]]:
    """(location, Job) per input image; object-storage keys become posix-path Jobs (no
    scheme) so the naming template sees ``stem``, ``parent`` and ``relparent`` as for files."""
    found: list[tuple[str, Job]] = []
    for item in inputs:
        if is_url(item):
            for image in list_images(item, recursive=recursive):
                found.append((image.location, Job(_key_path(image.location), image.rel)))
        else:
            found.extend((str(job.source), job) for job in
                         expand_inputs([item], recursive=recursive))
    if not found:
        raise InvalidOption("no input images found")
    return found


def _key_path(location: str) -> Any:
    return PurePosixPath(split_url(location)[1])


def destinations(found: list[tuple[str, Job]], output: str, *, single_file: bool,
                 template: str, ext: str, model: str) -> list[str]:
    """The output location of every input, in order (local batch naming and collisions)."""
    from alphacut.interfaces.naming import plan_destinations

    jobs = [job for _, job in found]
    scheme, root = split_url(output)
    base: Any = Path(root) if scheme is None else PurePosixPath(root)
    target = base if single_file else None
    planned = plan_destinations(jobs, target, base, template, ext, model)
    prefix = "" if scheme is None else f"{scheme}://"
    return [f"{prefix}{planned[job]}" for job in jobs]


def make_plan(found: list[tuple[str, Job]], dests: list[str], output: str, history: History,
              rules: Rules) -> Plan:
    """Settle what can be settled on the driver (module docstring); the rest is ``todo``."""
    existing = _existing(output, dests)
    inputs = {_canonical(src) for src, _ in found}
    since = history.interrupted_since
    since = None if since is None else math.floor(since)  # object stores keep whole seconds
    plan = Plan()
    for (src, _), dest in zip(found, dests, strict=True):
        mtime = existing.get(_canonical(dest))
        if history.done.get(src) == dest and mtime is not None:
            plan.earlier += 1
        elif mtime is not None and since is not None and mtime >= since:
            plan.settled.append(Settled(src, dest, "done"))
        elif _canonical(dest) in inputs:
            error = OutputError(f"{dest}: refusing to overwrite an input file")
            plan.settled.append(Settled(src, dest, "failed", error))
        elif mtime is not None and rules.skip_existing:
            plan.settled.append(Settled(src, dest, "skipped"))
        elif mtime is not None and not rules.overwrite:
            error = OutputError(f"{dest} exists; pass --overwrite or --skip-existing")
            plan.settled.append(Settled(src, dest, "failed", error))
        else:
            plan.todo.append({"src": src, "dest": dest})
    return plan


def _existing(output: str, dests: list[str]) -> dict[str, float]:
    """Modification time of every destination that exists (one listing of the output)."""
    if not dests:
        return {}
    times = modified_times(output)
    return {_canonical(k): v for k, v in times.items()}


def _canonical(location: str) -> str:
    if is_url(location):
        return location
    try:
        return str(Path(location).resolve())
    except OSError:
        return str(Path(location).absolute())
