"""CPU seconds per process kind while a Ray run lasts (benchmarks/ray_batch.py): every
process below this one, from /proc, so the simulated cluster's daemons and workers count."""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def process_cpu() -> dict[int, tuple[str, float]]:
    """pid -> (kind, user + system CPU seconds) of every live process below this one (the
    simulated cluster's daemons and workers are its children; workers are titled
    ``ray::NAME``, daemons named after their program)."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), _kind(cmd),
                             (int(fields[11]) + int(fields[12])) / tick)
    mine, todo = {os.getpid()}, [os.getpid()]
    while todo:
        pid = todo.pop()
        kids = [p for p, row in table.items() if row[0] == pid and p not in mine]
        mine.update(kids)
        todo.extend(kids)
    return {pid: table[pid][1:] for pid in mine if pid in table}


def _kind(cmd: str) -> str:
    if cmd.startswith("ray::"):
        return cmd.split()[0][:48]
    for name in ("raylet", "gcs_server", "dashboard/agent.py", "log_monitor.py",
                 "runtime_env/agent", "monitor.py", "dashboard.py", "ray_batch.py",
                 "default_worker.py"):
        if name in cmd:
            return name
    return "other:" + cmd[:60]


class CpuSampler:
    """CPU seconds per process kind while a run lasts, sampled every 0.3 s so that workers
    which end before the run does (the actor pool) are counted; a worker is filed under the
    last non-idle title it was seen with."""

    def __init__(self) -> None:
        self.base = {pid: cpu for pid, (_, cpu) in process_cpu().items()}
        self.seen: dict[int, tuple[str, float]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> CpuSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()

    def _loop(self) -> None:
        while not self.stop.wait(0.3):
            self._sample()

    def _sample(self) -> None:
        for pid, (kind, cpu) in process_cpu().items():
            old = self.seen.get(pid)
            if old is not None and (kind == "ray::IDLE" or kind.startswith("other:")):
                kind = old[0]
            self.seen[pid] = (kind, cpu)

    def by_kind(self) -> dict[str, float]:
        """CPU seconds per kind, the processes of a kind counted as ``KIND xN``."""
        totals: dict[str, float] = {}
        count: dict[str, int] = {}
        for pid, (kind, cpu) in self.seen.items():
            spent = cpu - self.base.get(pid, 0.0)
            if spent > 0.005:
                totals[kind] = totals.get(kind, 0.0) + spent
                count[kind] = count.get(kind, 0) + 1
        return {f"{k} x{count[k]}": round(v, 2)
                for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


# ------------------------------------------- the same rows in this process vs a Ray worker


def stage_costs(rows: list[dict[str, str]], config: Any) -> dict[str, tuple[float, float]]:
    """Mean (CPU s, minor faults) per row of load_row, InferActor (batches of 2) and
    finish_row (twice: the second pass reuses the process's memory) over ``rows``, all in
    the calling process: run it here and inside a Ray task to compare the two."""
    import numpy as np

    from alphacut.interfaces.ray import tasks

    costs: dict[str, list[tuple[float, float]]] = {}

    def timed(name: str, fn: Callable[[], Any], share: int = 1) -> Any:
        cpu, faults = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        out = fn()
        spent = (time.process_time() - cpu,
                 resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
        costs.setdefault(name, []).extend([(spent[0] / share, spent[1] / share)] * share)
        return out

    loaded = [timed("load", lambda r=r: tasks.load_row(r, config)) for r in rows]
    actor, inferred = tasks.actor_class(config)(), []
    for i in range(0, len(loaded), 2):
        part = loaded[i:i + 2]
        batch = {k: np.array([r[k] for r in part], dtype=object) for k in part[0]}
        out = timed("infer", lambda b=batch: actor(b), len(part))
        inferred += [{k: out[k][j] for k in out} for j in range(len(part))]
    for name in ("finish", "finish again"):
        for row in inferred:
            timed(name, lambda r=row: tasks.finish_row(r, config))
    return {k: (sum(c for c, _ in v) / len(v), sum(f for _, f in v) / len(v))
            for k, v in costs.items()}


def main() -> None:
    """``python benchmarks/ray_cpu.py PHOTO_DIR OUT_DIR``: the table of docs/ray.md's
    session 5 round 2 (run it under ``flock /work/bench.lock``)."""
    import ray

    from alphacut.config import Config

    photos, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"src": str(p), "dest": str(out / f"{p.stem}.png")}
            for p in sorted(photos.glob("*.jpg"))]
    config = Config.build(model="u2netp", preset="balanced").replace(threads=1)
    results = {"this process": stage_costs(rows, config)}
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    for cpus in (0.25, 1):
        task = ray.remote(num_cpus=cpus)(stage_costs)
        results[f"ray task num_cpus={cpus}"] = ray.get(task.remote(rows, config))
    ray.shutdown()
    for where, table in results.items():
        print(where)
        for name, (cpu, faults) in table.items():
            print(f"  {name:13s} {cpu:.3f} s  {faults / 1000:.1f}k faults")


if __name__ == "__main__":
    main()
