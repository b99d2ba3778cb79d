"""CPU seconds per process kind while a Ray run lasts (benchmarks/ray_batch.py): every
process below this one, from /proc, so the simulated cluster's daemons and workers count."""

from __future__ import annotations

import os
import threading
from pathlib import Path


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
