"""The Ray engine on a simulated two-node cluster: same bytes as the local batch, and a driver
killed with SIGKILL mid-run, then the same command again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from raytools import MODEL, done_counts, files, local_batch, pets_folder

from alphacut.interfaces.ray import remove_many

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_two_nodes_match_the_local_batch(tmp_path: Path, two_nodes: str) -> None:
    import ray

    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    inputs = pets_folder(tmp_path / "in")
    expected = local_batch(inputs, tmp_path / "local", "--bg", "white", "--format", "jpeg")
    summary = remove_many(str(inputs), str(tmp_path / "ray"), model="u2netp", bg="white",
                          format="jpeg")
    assert (summary.written, summary.failed) == (4, 0)
    assert files(tmp_path / "ray") == expected


def _command(inputs: Path, out: Path, address: str) -> list[str]:
    return [sys.executable, "-m", "alphacut.interfaces.cli", "remove", str(inputs), "-o",
            str(out), *MODEL, "-q", "--engine", "ray", "--ray-address", address]


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime ns) of every output: a rewrite (temp + rename) changes the inode."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.png")}


def test_driver_sigkill_then_rerun_finishes_without_redoing(tmp_path: Path,
                                                            two_nodes: str) -> None:
    inputs = pets_folder(tmp_path / "in", copies=4)
    out = tmp_path / "out"
    manifest = out / ".alphacut-manifest.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    driver = subprocess.Popen(_command(inputs, out, two_nodes), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and driver.poll() is None:
            if manifest.exists() and sum(done_counts(manifest).values()) >= 3:
                break
            time.sleep(0.05)
        assert driver.poll() is None, "the run ended before it could be killed"
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        driver.wait(timeout=30)
    first = done_counts(manifest)
    assert 3 <= sum(first.values()) < 16
    time.sleep(2.0)  # let the killed job's tasks and actors be torn down
    before = _stamps(out)
    rerun = subprocess.run(_command(inputs, out, two_nodes), env=env, capture_output=True,
                           text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = _stamps(out)
    assert len(after) == 16
    assert {name: after[name] for name in before} == before  # nothing written twice
    counts = done_counts(manifest)
    assert len(counts) == 16 and set(counts.values()) == {1}
    assert not list(out.rglob(".*.tmp"))
