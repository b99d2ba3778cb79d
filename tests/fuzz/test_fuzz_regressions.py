"""Replay every input a fuzz campaign found (tests/fixtures/fuzz): each once escaped as an
untyped exception or printed to stderr; now each decodes or raises a typed error, silently."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from decode_fuzzing import check_decode, seeds

from alphacut.core.decode import decode
from alphacut.errors import AlphacutError, InvalidImage

FINDINGS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "fuzz").glob("*.bin"))


def test_there_are_findings_to_replay() -> None:
    assert len(FINDINGS) >= 5


@pytest.mark.parametrize("path", FINDINGS, ids=[p.stem for p in FINDINGS])
def test_finding_is_typed_and_silent(path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = path.read_bytes()
    assert len(data) < 16_384  # fixtures stay small
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_decode(data)
    assert capfd.readouterr() == ("", "")


def test_concurrent_decodes_keep_their_own_verdicts(capfd: pytest.CaptureFixture[str]) -> None:
    """libjpeg warnings are read from a shared capture: a damaged file in one thread must not
    make a sound file in another fail, nor the other way round."""
    good = seeds()["jpeg"]
    bad = good[: len(good) * 2 // 3] + b"\xff\xd9"
    jobs = [good, bad] * 24

    def run(data: bytes) -> str:
        try:
            decode(data)
        except AlphacutError as e:
            return type(e).__name__
        return "ok"

    capfd.readouterr()
    with ThreadPoolExecutor(4) as pool:
        verdicts = list(pool.map(run, jobs))
    assert verdicts == ["ok", InvalidImage.__name__] * 24
    assert capfd.readouterr() == ("", "")
