"""The Ray engine on a simulated two-node cluster: same bytes as the local batch; a driver
killed with SIGKILL mid-run, then the same command again; a node lost mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from raytools import (
    LAYOUTS,
    MODEL,
    NODE,
    Gate,
    actor_pids,
    cluster_idle,
    done_counts,
    files,
    kill_group,
    layout_flags,
    layout_options,
    local_batch,
    node_processes,
    pets_folder,
    run_with_fault,
    wait_until,
)

from alphacut.interfaces.ray import remove_many

pytestmark = [pytest.mark.model, pytest.mark.slow]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_nodes_match_the_local_batch(tmp_path: Path, two_nodes: str, layout: str) -> None:
    import ray

    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    inputs = pets_folder(tmp_path / "in")
    expected = local_batch(inputs, tmp_path / "local", "--bg", "white", "--format", "jpeg")
    summary = remove_many(str(inputs), str(tmp_path / "ray"), model="u2netp", bg="white",
                          format="jpeg", **layout_options(layout))
    assert (summary.written, summary.failed) == (4, 0)
    assert files(tmp_path / "ray") == expected


def _command(inputs: list[Path], out: Path, address: str, layout: str) -> list[str]:
    return [sys.executable, "-m", "alphacut.interfaces.cli", "remove", *map(str, inputs), "-o",
            str(out), *MODEL, "-q", "--engine", "ray", "--ray-address", address,
            *layout_flags(layout)]


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime ns) of every output: a rewrite (temp + rename) changes the inode."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.png")}


def _check_once(out: Path, manifest: Path, count: int) -> None:
    """Every output present, whole, recorded done exactly once; no temporary file left."""
    counts = done_counts(manifest)
    assert len(counts) == count and set(counts.values()) == {1}
    outputs = sorted(out.glob("*.png"))
    assert len(outputs) == count
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in outputs)
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_driver_sigkill_then_rerun_finishes_without_redoing(tmp_path: Path, two_nodes: str,
                                                            layout: str) -> None:
    inputs = pets_folder(tmp_path / "in", copies=2)
    gate = Gate(tmp_path / "gate")  # held shut: the first run cannot end before its kill
    command = _command([inputs, gate.path], tmp_path / "out", two_nodes, layout)
    out = tmp_path / "out"
    manifest = out / ".alphacut-manifest.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: driver.poll() is not None or (
            manifest.exists() and sum(done_counts(manifest).values()) >= 3),
            "three finished items", timeout=150)
        assert driver.poll() is None, "the driver died before it was killed"
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        kill_group(driver)  # also when the wait failed: a live driver would hold the CPUs
    first = done_counts(manifest)
    assert 3 <= sum(first.values()) < 9
    wait_until(cluster_idle, "the killed run's tasks and actors to be gone")
    before = _stamps(out)
    gate.open()
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = _stamps(out)
    assert {name: after[name] for name in before} == before  # nothing written twice
    _check_once(out, manifest, 9)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_node_lost_mid_run_loses_nothing(tmp_path: Path, simulated_cluster: Any,
                                           layout: str) -> None:
    """A third node joins, takes its share of the work, and is removed (its raylet, object
    store and workers killed) after the first item finishes; the run goes on on the two
    left, and a rerun has nothing to do."""
    cluster = simulated_cluster
    extra = cluster.add_node(**NODE)
    cluster.wait_for_nodes()
    inputs = pets_folder(tmp_path / "in", copies=2)
    gate = Gate(tmp_path / "gate")
    out = tmp_path / "out"
    manifest = out / ".alphacut-manifest.jsonl"

    def lose_the_third_node() -> None:
        # three actors (1 CPU fused, 0.75 split) on three 1-CPU nodes: one is on the doomed one
        wait_until(lambda: bool(set(actor_pids()) & node_processes(extra)),
                   "an inference actor on the third node")
        doomed = node_processes(extra)
        cluster.remove_node(extra, allow_graceful=False)
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in doomed),
                   "the lost node's processes to end")

    summary = run_with_fault(inputs, gate, out, lose_the_third_node, layout)
    assert (summary.written, summary.failed) == (9, 0)
    _check_once(out, manifest, 9)
    before = _stamps(out)
    again = remove_many([str(inputs), str(gate.path)], str(out), model="u2netp",
                        **layout_options(layout))
    assert (again.earlier, again.written, again.failed) == (9, 0, 0)
    assert _stamps(out) == before
