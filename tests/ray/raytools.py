"""Helpers for the Ray tests: inputs, the local batch's outputs, manifest counts."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from helpers import PETS

MODEL = ["-m", "u2netp"]


def pets_folder(folder: Path, copies: int = 1) -> Path:
    """The pet photos (``copies`` times, renamed) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(copies):
        for pet in PETS:
            name = pet.name if copies == 1 else f"{pet.stem}-{n}{pet.suffix}"
            shutil.copy(pet, folder / name)
    return folder


def local_batch(inputs: Path, out: Path, *extra: str) -> dict[str, bytes]:
    """The local batch's outputs (``alphacut remove`` without --engine), name -> bytes."""
    from alphacut.interfaces.cli import main

    assert main(["remove", str(inputs), "-o", str(out), *MODEL, "-q", *extra]) == 0
    return files(out)


def files(folder: Path) -> dict[str, bytes]:
    """Every non-hidden file below ``folder``: relative name -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def manifest_lines(path: Path) -> list[dict[str, object]]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue  # a line torn by a killed driver
    return lines


def done_counts(path: Path) -> Counter[str]:
    """How many times each source was recorded done."""
    return Counter(str(r["src"]) for r in manifest_lines(path) if r.get("status") == "done")
