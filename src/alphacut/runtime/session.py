"""HOW to run a model: one ONNX Runtime session per (model, threads), created once, shared.

ONNX Runtime's ``InferenceSession.run`` is safe to call from several threads at once and
releases the GIL, so one session serves a whole batch or server.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphacut.errors import WeightsError
from alphacut.models.spec import ModelSpec
from alphacut.types import Tensor

ProgressFn = Callable[[str, int, int | None], None]


@dataclass
class ModelSession:
    """A loaded model: its spec, the ONNX Runtime session, and its input/output names."""

    spec: ModelSpec
    session: Any
    input_name: str
    output_name: str
    path: Path

    release_options: Any = None

    def run(self, tensor: Tensor, *, release_arena: bool = False) -> np.ndarray:
        """Forward pass: ``float32 (1, 3, h, w)`` -> the chosen output, as returned.

        ``release_arena`` gives the arena's activation memory back to the system after the
        run (250-300 MB for u2net/u2netp), lowering peak RSS while a large image's
        full-resolution stages run. It costs the next run its allocations again (a batch of
        1 MP photos ran 20% slower with it on every run), so callers ask for it on large
        images only.
        """
        options = self.release_options if release_arena else None
        return self.session.run([self.output_name], {self.input_name: tensor}, options)[0]


_LOCK = threading.Lock()
_SESSIONS: dict[tuple[str, str, int], ModelSession] = {}


def default_threads() -> int:
    """Intra-op threads: ALPHACUT_THREADS, else the number of usable cores."""
    env = os.environ.get("ALPHACUT_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def session_options(threads: int) -> Any:
    """ONNX Runtime options tuned for a small CPU: all graph optimisations, arena on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    options.log_severity_level = 3
    # Idle intra-op threads sleep instead of spinning: a batch decodes and encodes on other
    # threads while the model runs, and a spinning pool would take their core (no measurable
    # cost to one image's inference here).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def load_session(
    spec: ModelSpec, *, threads: int | None = None, progress: ProgressFn | None = None
) -> ModelSession:
    """The shared session for ``spec``, fetching weights on first use."""
    from alphacut.runtime.weights import ensure_weights

    threads = threads or default_threads()
    key = (spec.name, spec.sha256 or spec.local_path or "", threads)
    with _LOCK:
        if key in _SESSIONS:
            return _SESSIONS[key]
        path = ensure_weights(spec, progress=progress)
        session = _create(spec, path, threads)
        _SESSIONS[key] = session
        return session


def loaded_models() -> list[str]:
    """Names of the models with a live session."""
    with _LOCK:
        return sorted({key[0] for key in _SESSIONS})


def clear_sessions() -> None:
    with _LOCK:
        _SESSIONS.clear()


def _create(spec: ModelSpec, path: Path, threads: int) -> ModelSession:
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(
            str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own exception types
        raise WeightsError(f"cannot load model {spec.name} from {path}: {exc}") from exc
    inputs = session.get_inputs()
    outputs = session.get_outputs()
    input_name = spec.input_name or inputs[0].name
    try:
        output_name = outputs[spec.output_index].name
    except IndexError as exc:
        raise WeightsError(
            f"model {spec.name} has {len(outputs)} outputs; spec asks for {spec.output_index}"
        ) from exc
    release = ort.RunOptions()
    release.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return ModelSession(spec, session, input_name, output_name, path, release)
