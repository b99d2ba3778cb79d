"""alphacut side of the benchmark, run in a fresh process per case (so its peak RSS is its own).

Usage: ``python ac_worker.py '<json task>'``; prints one JSON line with the measurements.
Modes: ``library`` (one image, Remover reused, per preset), ``batch`` (the pipelined batch),
``masks`` (alpha of each image for the IoU comparison, written as 8-bit PNG).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from worker_main import serve


def _library(task: dict[str, Any]) -> dict[str, Any]:
    from alphacut.api import Remover
    from alphacut.core.encode import write_atomic

    src, out = Path(task["image"]), Path(task["out"])
    results: dict[str, Any] = {}
    remover = None
    for preset in task["presets"]:
        options = {"preset": preset} if preset != "default" else {}
        remover = Remover(model=task["model"], **options)

        def once(remover: Any = remover) -> tuple[float, dict[str, float]]:
            start = time.perf_counter()
            result, data = remover.process(src)
            mid = time.perf_counter()
            write_atomic(out, data)
            end = time.perf_counter()
            return end - start, {**result.timings, "write": end - mid}

        once()  # warm-up: session creation and first-run allocations are not per-image costs
        runs = [once() for _ in range(task["repeat"])]
        stages = {k: statistics.median(r[1].get(k, 0.0) for r in runs) for k in runs[0][1]}
        results[preset] = {"wall": [r[0] for r in runs], "stages": stages}
    assert remover is not None
    return {"presets": results, "infer": _infer(remover, src, task["repeat"])}


def _infer(remover: Any, src: Path, repeat: int) -> list[float]:
    """``session.run`` alone on the tensor alphacut builds for this image."""
    remover.load()
    session = remover.pool.get(remover.spec)
    tensor = remover.prepare(remover.decode(src)).tensors[0]
    session.run(tensor)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(tensor)
        times.append(time.perf_counter() - start)
    return times


def _batch(task: dict[str, Any]) -> dict[str, Any]:
    from alphacut.api import Remover
    from alphacut.interfaces.batch import Job, choose_workers, engine_steps, run_pipeline

    out_dir = Path(task["out_dir"])
    jobs = [Job(Path(p), Path(Path(p).name)) for p in task["images"]]
    try:  # as `alphacut remove` does for a batch (a tree without it: its old behaviour)
        from alphacut.runtime.memory import tune_allocator

        if not os.environ.get("AC_BENCH_NO_TUNE"):  # set: measure without it
            tune_allocator()
    except ImportError:
        pass
    # what `alphacut remove` does for a batch: images in flight and threads per run by default
    workers, threads = choose_workers(len(jobs))
    preset = {"preset": task["preset"]} if task.get("preset", "default") != "default" else {}
    remover = Remover(model=task["model"], threads=threads, **preset)
    steps = engine_steps(remover, lambda job: out_dir / f"{job.source.stem}.png")
    run_pipeline(jobs[:workers + 1], steps, workers=workers)  # warm-up, as for rembg
    # the ceiling is one image at a time on the default (all cores) session; sampled before
    # and after the batch runs, as the machine's load drifts
    single = Remover(model=task["model"])
    infer = _infer(single, jobs[0].source, 3)
    walls, stages = [], []
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(task["repeat"]):
        start = time.perf_counter()
        outcomes = run_pipeline(jobs, steps, workers=workers)
        walls.append(time.perf_counter() - start)
        failed = [str(o.error) for o in outcomes if o.error is not None]
        if failed:
            raise SystemExit(f"batch failures: {failed[:3]}")
        stages.append({k: sum(o.timings.get(k, 0.0) for o in outcomes)
                       for k in outcomes[0].timings})
    summed = {k: statistics.median(s[k] for s in stages) for k in stages[0]}
    after = resource.getrusage(resource.RUSAGE_SELF)
    images = len(jobs) * task["repeat"]  # whole-process CPU and page faults per image
    process = {"user": (after.ru_utime - usage.ru_utime) / images,
               "sys": (after.ru_stime - usage.ru_stime) / images,
               "minflt": (after.ru_minflt - usage.ru_minflt) / images}
    infer += _infer(single, jobs[0].source, 3)
    return {"wall": walls, "stage_sums": summed, "workers": workers, "threads": threads,
            "infer": infer, "process": process}


def _masks(task: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from PIL import Image

    from alphacut.api import Remover

    remover = Remover(model=task["model"], **task.get("options", {}))
    out_dir = Path(task["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    for src in task["images"]:
        alpha = remover.remove(src).alpha
        a8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        Image.fromarray(a8).save(out_dir / f"{Path(src).stem}.png")
    return {"count": len(task["images"])}


def main() -> None:
    serve({"library": _library, "batch": _batch, "masks": _masks})


if __name__ == "__main__":
    main()
