"""What a batch passes around: a job (one input and where its output goes) and its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alphacut.errors import AlphacutError


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
