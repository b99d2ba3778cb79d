"""The pipelined batch: order kept, failures reported while the rest goes on, files written."""

from __future__ import annotations

import random
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alphacut.errors import InvalidImage
from alphacut.interfaces.batch import (
    Job,
    Outcome,
    Steps,
    choose_workers,
    engine_steps,
    run_pipeline,
)
from helpers import PETS


def jobs_for(names: list[str]) -> list[Job]:
    return [Job(Path(name), Path(name)) for name in names]


def jittery_steps(fail: dict[str, str] | None = None) -> tuple[Steps, list[str]]:
    """Steps that sleep at random (so threads finish out of order) and fail where told."""
    fail = fail or {}
    seen: list[str] = []
    lock = threading.Lock()
    rng = random.Random(0)

    def nap() -> None:
        with lock:
            delay = rng.random() * 0.01
        time.sleep(delay)

    def load(job: Job) -> str:
        nap()
        if fail.get(job.source.name) == "load":
            raise InvalidImage("cannot decode")
        return job.source.name

    def infer(state: str) -> str:
        nap()
        with lock:
            seen.append(state)
        if fail.get(state) == "infer":
            raise RuntimeError("model blew up")
        return state.upper()

    def finish(job: Job, state: str, inferred: str) -> Outcome:
        nap()
        if fail.get(state) == "finish":
            raise OSError("disk full")
        return Outcome(job, output=Path(inferred))

    return Steps(load, infer, finish), seen


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_outcomes_come_back_in_input_order(workers: int) -> None:
    names = [f"img{i:02d}.jpg" for i in range(20)]
    steps, seen = jittery_steps()
    done: list[str] = []
    outcomes = run_pipeline(jobs_for(names), steps, workers=workers,
                            on_done=lambda o: done.append(o.job.source.name))
    assert [o.job.source.name for o in outcomes] == names
    assert done == names  # progress is reported in order too
    assert [str(o.output) for o in outcomes] == [n.upper() for n in names]
    assert sorted(seen) == names  # every image went through the model once


def test_failures_are_reported_and_the_rest_go_on() -> None:
    names = [f"img{i}.jpg" for i in range(6)]
    fail = {"img1.jpg": "load", "img3.jpg": "infer", "img4.jpg": "finish"}
    steps, _ = jittery_steps(fail)
    outcomes = run_pipeline(jobs_for(names), steps, workers=2)
    errors = {o.job.source.name: o.error for o in outcomes if o.error is not None}
    assert set(errors) == set(fail)
    assert all(str(Path(name)) in str(err) for name, err in errors.items())
    assert "cannot decode" in str(errors["img1.jpg"])
    assert "disk full" in str(errors["img4.jpg"])
    ok = [o for o in outcomes if o.error is None]
    assert [o.job.source.name for o in ok] == ["img0.jpg", "img2.jpg", "img5.jpg"]


def test_a_skip_from_load_ends_the_job_without_the_model() -> None:
    names = ["a.jpg", "b.jpg", "c.jpg"]
    base, seen = jittery_steps()

    def load(job: Job) -> object:
        if job.source.name == "b.jpg":
            return Outcome(job, skipped=True)
        return base.load(job)

    outcomes = run_pipeline(jobs_for(names), Steps(load, base.infer, base.finish), workers=2)
    assert [o.skipped for o in outcomes] == [False, True, False]
    assert "b.jpg" not in seen


def test_one_job_runs_on_the_calling_thread() -> None:
    threads: set[str] = set()

    def load(job: Job) -> str:
        threads.add(threading.current_thread().name)
        return "x"

    steps = Steps(load, lambda s: s, lambda job, s, y: Outcome(job))
    run_pipeline(jobs_for(["one.jpg"]), steps, workers=4)
    assert threads == {threading.current_thread().name}


def test_choose_workers_gives_one_image_every_core() -> None:
    assert choose_workers(1) == (1, None)
    assert choose_workers(1, threads=3) == (1, 3)
    workers, threads = choose_workers(50, jobs=2, threads=None)
    assert workers == 2 and threads is not None and threads >= 1
    assert choose_workers(50, jobs=1, threads=None)[0] == 1
    assert choose_workers(3, jobs=8, threads=2) == (3, 2)


@pytest.mark.model
def test_engine_steps_write_every_output_and_report_the_broken_file(
        u2netp_remover, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sources = []
    for pet in PETS[:3]:
        sources.append(Path(shutil.copy(pet, tmp_path / pet.name)))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    sources.insert(1, broken)
    out = tmp_path / "out"
    steps = engine_steps(u2netp_remover, lambda job: out / f"{job.source.stem}.png")
    outcomes = run_pipeline([Job(s, Path(s.name)) for s in sources], steps, workers=2)
    assert [o.job.source for o in outcomes] == sources
    assert outcomes[1].error is not None and "broken.jpg" in str(outcomes[1].error)
    for outcome in (outcomes[0], *outcomes[2:]):
        assert outcome.error is None and outcome.output is not None
        with Image.open(outcome.job.source) as im:
            size = im.size
        with Image.open(outcome.output) as written:
            assert written.mode == "RGBA" and written.size == size
            alpha = np.asarray(written)[..., 3]
        assert alpha.min() < 10 and alpha.max() > 245  # a real cut-out, not blank
        assert {"decode", "infer", "encode", "write"} <= set(outcome.timings)


@pytest.mark.model
def test_pipeline_output_equals_one_by_one(u2netp_remover, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pets = PETS[:2]
    steps = engine_steps(u2netp_remover, lambda job: tmp_path / f"{job.source.stem}.png")
    run_pipeline([Job(p, Path(p.name)) for p in pets], steps, workers=2)
    for pet in pets:
        _, data = u2netp_remover.process(pet)
        alone = (tmp_path / "alone.png")
        alone.write_bytes(data)
        assert np.array_equal(np.asarray(Image.open(alone)),
                              np.asarray(Image.open(tmp_path / f"{pet.stem}.png")))


@pytest.mark.parametrize(("cores", "workers", "given", "expected"),
                         [(2, 2, None, 1), (2, 1, None, 2), (4, 2, None, 2), (2, 1, 1, 1)])
def test_each_finisher_refines_on_its_share_of_the_cores(
        cores: int, workers: int, given: int | None, expected: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Refine of image n runs beside the model on image n + 1: on 2 cores with 2 images in
    the model, each finisher's refine gets 1 thread, not 2 (4-6 busy threads on 2 cores).
    ``given``: the CPUs the pipeline is handed (a 1-CPU Ray actor on a 2-core machine: 1)."""
    from alphacut.core.refine.tiles import refine_threads
    from alphacut.interfaces.batch import iter_pipeline

    monkeypatch.setenv("ALPHACUT_THREADS", str(cores))
    monkeypatch.setattr("alphacut.core.refine.tiles.THREADS", cores)
    budgets: list[int] = []

    def finish(job: Job, state: str, inferred: str) -> Outcome:
        budgets.append(refine_threads())
        return Outcome(job)

    steps = Steps(lambda job: job.source.name, lambda s: s, finish)
    jobs = jobs_for([f"img{i}.jpg" for i in range(6)])
    if given is None:
        run_pipeline(jobs, steps, workers=workers)
    else:
        list(iter_pipeline(jobs, steps, workers=workers, cores=given))
    assert budgets == [expected] * 6
    assert refine_threads() == cores  # the caller's own budget is untouched
