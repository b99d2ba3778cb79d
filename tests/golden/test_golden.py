"""The committed golden vectors are what the engine computes today.

The page's imaging.js is checked against the same file in the browser
(tests/server/test_server_page.py::test_page_maths_match_the_engine_golden_vectors), so if the
engine's maths changes, this test fails until ``make_golden.py`` is rerun, and then the page
test fails until imaging.js follows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from make_golden import OUT, build


def mismatches(got: Any, want: Any, path: str = "") -> list[str]:
    """Paths where ``got`` differs from ``want``: ints exactly, floats within 1e-6."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{path}: keys differ"]
        return [m for key in want for m in mismatches(got[key], want[key], f"{path}.{key}")]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: length differs"]
        return [m for i, (g, w) in enumerate(zip(got, want, strict=True))
                for m in mismatches(g, w, f"{path}[{i}]")]
    if isinstance(want, float) or isinstance(got, float):
        return [] if abs(float(got) - float(want)) <= 1e-6 else [f"{path}: {got} != {want}"]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def test_golden_vectors_match_the_engine() -> None:
    committed = json.loads(OUT.read_text(encoding="utf-8"))
    assert mismatches(build(), committed) == []


def test_the_comparison_can_fail() -> None:
    committed = json.loads(OUT.read_text(encoding="utf-8"))
    committed["cutout"][5] = (committed["cutout"][5] + 1) % 256
    committed["upsample_guided"][0] += 1e-5
    assert len(mismatches(build(), committed)) == 2


@pytest.mark.parametrize("key", ["cutout", "over_color", "upsample_guided", "tensor"])
def test_vectors_are_not_trivial(key: str) -> None:
    """Each vector has content (a blank image would match any maths)."""
    value = build()[key]
    flat = json.dumps(value)
    assert len(set(flat.split(","))) > 20
