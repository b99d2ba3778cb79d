"""CPU seconds of a process tree from /proc (Linux): what load on a shared machine does not
inflate, unlike wall time. Used by benchmarks/camera.py and benchmarks/web_peer.py."""

from __future__ import annotations

import os
from pathlib import Path


def _table() -> tuple[dict[int, int], dict[int, float]]:
    """(pid -> parent pid, pid -> user + system CPU seconds) of every live process."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    return parent, times


def descendants(root: int) -> set[int]:
    """Every live process below ``root``."""
    parent, _ = _table()
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid and p not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def tree_cpu(root: int, include_root: bool = False) -> float:
    """CPU seconds of the live processes below ``root`` (and of ``root`` if asked)."""
    parent, times = _table()
    total = times.get(root, 0.0) if include_root else 0.0
    todo, seen = [root], {root}
    while todo:
        pid = todo.pop()
        for kid in [p for p, pp in parent.items() if pp == pid and p not in seen]:
            seen.add(kid)
            total += times[kid]
            todo.append(kid)
    return total


def new_browser_root(before: set[int]) -> int | None:
    """The Chromium main process among the processes below us that are not in ``before``."""
    parent, _ = _table()
    new = descendants(os.getpid()) - before
    for pid in sorted(new):
        if parent.get(pid) not in new:
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            if "chrom" in exe:
                return pid
    return None
