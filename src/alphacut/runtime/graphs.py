"""ONNX Runtime's optimised graph of each cached model, kept so a new process skips the work.

Creating a session with every graph optimisation costs 0.05-0.09 s for u2netp (fusions,
layout changes), every time a process starts: a one-photo CLI run, a server, each Ray actor.
ONNX Runtime can write the graph it ends up with; loading that with optimisations off takes
0.01 s and runs the very same kernels (outputs bit-identical, same speed: measured in
docs/benchmark.md). The written graph may hold hardware-specific layouts, so it is keyed by
the weights (their file name carries their sha256), the ONNX Runtime version and the CPU's
instruction-set flags, and lives in ``<ALPHACUT_HOME>/graphs``. It is written to a temporary
name and renamed; a stamp (size, mtime, inode) taken then must still match when it is read,
else it is made again. Only cached weights get one (a user's own file may change in place).
Saving a graph sweeps the folder of graphs no process here can use any more: those made by
another ONNX Runtime version, and those whose weights have left the cache. Graphs of other
CPUs stay (a shared ``ALPHACUT_HOME`` may serve a cluster of different machines).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from alphacut.runtime.weights.cache import cache_dir, install, temp_file, write_text_atomic

GRAPH_NAME = re.compile(r"^(?P<stem>.+)-ort(?P<version>[^-]+)-(?P<cpu>[0-9a-f]{12})\.onnx$")
SessionFactory = Callable[[Path, bool, Path | None], Any]
"""``factory(model_path, optimise, save_to)``: an InferenceSession of ``model_path``, with
every graph optimisation (``optimise``) or none, writing its optimised graph to ``save_to``."""


def create_session(weights: Path, factory: SessionFactory) -> Any:
    """A session of ``weights``: from its saved optimised graph when there is a sound one,
    else optimised from the file (saving the graph for next time where the cache allows)."""
    graph = graph_path(weights)
    if graph is None:
        return factory(weights, True, None)
    if _stamp_matches(graph):
        try:
            return factory(graph, False, None)
        except Exception:
            _discard(graph)
    try:
        graph.parent.mkdir(parents=True, exist_ok=True)
        with temp_file(graph.parent, graph.stem, ".onnx") as tmp:
            session = factory(weights, True, tmp)
            if tmp.stat().st_size > 0:
                install(tmp, graph)
                write_text_atomic(_stamp(graph), json.dumps(_identity(graph)))
                sweep_stale(graph.parent, weights.parent)
            return session
    except OSError:  # a read-only or full cache: run without saving
        return factory(weights, True, None)


def graph_path(weights: Path) -> Path | None:
    """Where the optimised graph of cached ``weights`` is kept; None for files outside the
    cache."""
    try:
        models = cache_dir().resolve()
        if weights.resolve().parent != models:
            return None
    except (OSError, RuntimeError):
        return None
    import onnxruntime as ort

    return models.parent / "graphs" / f"{weights.stem}-ort{ort.__version__}-{cpu_tag()}.onnx"


@lru_cache(maxsize=1)
def cpu_tag() -> str:
    """12 hex digits naming this CPU's architecture and instruction-set flags."""
    flags = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags = " ".join(sorted(line.split(":", 1)[-1].split()))
                break
    text = f"{platform.machine()}|{platform.processor()}|{flags}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def sweep_stale(graphs: Path, models: Path) -> list[Path]:
    """Delete (with their stamps) the graphs in ``graphs`` made by another ONNX Runtime
    version or for weights no longer in ``models``; returns the graphs deleted."""
    import onnxruntime as ort

    stale = []
    for graph in graphs.glob("*.onnx"):
        name = GRAPH_NAME.match(graph.name)
        if name is None:
            continue
        if (name["version"] != ort.__version__
                or not (models / f"{name['stem']}.onnx").is_file()):
            _discard(graph)
            stale.append(graph)
    return stale


def _identity(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _stamp(graph: Path) -> Path:
    return graph.with_name(graph.name + ".stamp")


def _stamp_matches(graph: Path) -> bool:
    """The graph is there and unchanged since it was written."""
    try:
        return bool(json.loads(_stamp(graph).read_text()) == _identity(graph))
    except (OSError, ValueError):
        return False


def _discard(graph: Path) -> None:
    for path in (graph, _stamp(graph)):
        with contextlib.suppress(OSError):
            os.unlink(path)
