"""Helpers for the Ray tests: inputs, the local batch's outputs, manifest counts."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import PETS

MODEL = ["-m", "u2netp"]
LAYOUTS = ["fused", "split"]  # the default, and remove_many(split_stages=True)


def layout_flags(layout: str) -> list[str]:
    """The CLI flags that select ``layout``."""
    return ["--ray-split-stages"] if layout == "split" else []


def layout_options(layout: str) -> dict[str, bool]:
    """The ``remove_many`` keywords that select ``layout``."""
    return {"split_stages": layout == "split"}
OBJECT_STORE = 200 * 1024 * 1024
NODE = {"num_cpus": 1, "object_store_memory": OBJECT_STORE}  # one simulated node


def pets_folder(folder: Path, copies: int = 1) -> Path:
    """The pet photos (``copies`` times, renamed) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(copies):
        for pet in PETS:
            name = pet.name if copies == 1 else f"{pet.stem}-{n}{pet.suffix}"
            shutil.copy(pet, folder / name)
    return folder


def local_batch(inputs: Path, out: Path, *extra: str) -> dict[str, bytes]:
    """The local batch's outputs (``alphacut remove`` without --engine), name -> bytes."""
    from alphacut.interfaces.cli import main

    assert main(["remove", str(inputs), "-o", str(out), *MODEL, "-q", *extra]) == 0
    return files(out)


def files(folder: Path) -> dict[str, bytes]:
    """Every non-hidden file below ``folder``: relative name -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def manifest_lines(path: Path) -> list[dict[str, object]]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue  # a line torn by a killed driver
    return lines


def done_counts(path: Path) -> Counter[str]:
    """How many times each source was recorded done."""
    return Counter(str(r["src"]) for r in manifest_lines(path) if r.get("status") == "done")


class Gate:
    """One input image that is a named pipe (FIFO): the load task that reads it blocks until
    ``open`` is called, so a run given this input cannot end before then. That is what makes
    a fault test's kill land mid-run on any machine, however fast, with no sleep race.

    ``open`` puts the photo's bytes at ``path`` as a regular file (later readers read that)
    and hands the same bytes to a reader already blocked on the pipe (through a second link
    to it), so the run reads a whole photo whichever way it gets there.
    """

    def __init__(self, folder: Path, photo: Path = PETS[0]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "held").mkdir(exist_ok=True)
        self.path = folder / f"gate{photo.suffix}"
        self.held = folder / "held" / self.path.name
        self.data = photo.read_bytes()
        os.mkfifo(self.path)
        os.link(self.path, self.held)

    def open(self) -> None:
        """Let the gated image through (idempotent: a second call finds no pipe)."""
        temp = self.path.with_name(f".{self.path.name}.part")
        temp.write_bytes(self.data)
        os.replace(temp, self.path)  # new readers now open a regular file
        try:
            fd = os.open(self.held, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: nobody is blocked on the pipe
            if exc.errno != errno.ENXIO:
                raise
            return
        os.set_blocking(fd, True)
        # BrokenPipeError: the reader was killed meanwhile (a killed run's task)
        with contextlib.suppress(BrokenPipeError), os.fdopen(fd, "wb") as pipe:
            pipe.write(self.data)


def run_with_fault(inputs: Path, gate: Gate, out: Path, fault: Callable[[], None],
                   layout: str = "fused") -> Any:
    """``remove_many`` over ``inputs`` and the gated image into ``out``, with ``fault`` done
    on a side thread once the manifest records a first finished item; the gate opens after
    the fault (or its failure, re-raised here). Returns the run's summary."""
    from alphacut.interfaces.ray import remove_many

    manifest = out / ".alphacut-manifest.jsonl"
    problems: list[BaseException] = []

    def strike() -> None:
        try:
            wait_until(lambda: manifest.exists() and bool(done_counts(manifest)),
                       "a first finished item")
            fault()
        except BaseException as exc:
            problems.append(exc)
        finally:
            gate.open()

    side = threading.Thread(target=strike, daemon=True)
    side.start()
    summary = remove_many([str(inputs), str(gate.path)], str(out), model="u2netp",
                          **layout_options(layout))
    side.join(timeout=60)
    assert not problems, problems
    return summary


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def actor_pids() -> list[int]:
    """This test process's inference actors (Ray titles them after the class); only
    processes below this one, so another run's Ray on the same machine is never touched."""
    pids = []
    for pid in sorted(descendants(os.getpid())):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"AlphacutInfer" in title or b"AlphacutFused" in title:
            pids.append(pid)
    return pids


def cluster_idle() -> bool:
    """Every CPU of the connected Ray free again: no task or actor of an earlier (killed)
    run still holds one, so none of them can still write an output."""
    import ray

    return ray.available_resources().get("CPU", 0.0) >= ray.cluster_resources().get("CPU", 0.0)


def node_processes(node: Any) -> set[int]:
    """Every process of a simulated node (``cluster.add_node``'s answer): its daemons and
    the workers its raylet started."""
    from ray._private import ray_constants

    roots = {info.process.pid for infos in node.all_processes.values() for info in infos
             if info.process is not None}
    raylets = {info.process.pid for info in
               node.all_processes.get(ray_constants.PROCESS_TYPE_RAYLET, [])}
    return roots | {pid for raylet in raylets for pid in descendants(raylet)}


def _parents() -> dict[int, int]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            found[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return found


def descendants(root: int) -> set[int]:
    """Every live process below ``root``."""
    parents = _parents()
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        kids = {p for p, pp in parents.items() if pp == pid} - found
        found |= kids
        todo.extend(kids)
    return found


RAY_TITLES = (b"ray::", b"raylet", b"gcs_server", b"plasma", b"dashboard", b"log_monitor",
              b"runtime_env", b"alphacut.interfaces.cli")


def stray_processes() -> list[str]:
    """Ray daemons, Ray workers and CLI drivers still alive below this test process
    (``pid: command``): once a test's clusters are shut down there must be none."""
    strays = []
    for pid in sorted(descendants(os.getpid())):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(t in title for t in RAY_TITLES):
            strays.append(f"{pid}: {title[:120].decode(errors='replace')}")
    return strays


def no_strays_left(timeout: float = 60.0) -> None:
    """Wait for every Ray process below this one to end; fail naming the ones that do not."""
    deadline = time.monotonic() + timeout
    while (strays := stray_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not strays, f"processes left behind: {strays}"


def kill_group(process: Any) -> None:
    """SIGKILL a driver started with ``start_new_session=True`` and everything in its
    process group (a driver that started its own Ray leaves no daemon behind), then reap it."""
    import signal

    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
