"""Fixtures shared across the suite. Real-model fixtures load u2netp (cached after first use)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def u2netp_remover():  # type: ignore[no-untyped-def]
    """A Remover with the real u2netp weights (the CI-sized model)."""
    from alphacut.api import Remover

    remover = Remover(model="u2netp")
    remover.load()
    return remover
