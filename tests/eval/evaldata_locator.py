"""Find the shared evaluation data (read in place, never copied into the repository).

``ALPHACUT_EVALDATA`` wins; otherwise ``../shared/evaldata`` next to the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def evaldata_root() -> Path | None:
    """The evaldata folder, or ``None`` when it is absent."""
    env = os.environ.get("ALPHACUT_EVALDATA")
    root = Path(env) if env else REPO.parent / "shared" / "evaldata"
    return root if root.is_dir() else None


def evaldata_set(name: str) -> Path:
    """One set's folder; skips the calling test when it is not there."""
    root = evaldata_root()
    if root is None or not (root / name / "masks").is_dir():
        pytest.skip(f"evaluation set {name!r} not found (set ALPHACUT_EVALDATA)")
    return root / name
