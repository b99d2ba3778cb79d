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


class RecurrentState:
    """The tensors a recurrent model (``spec.state``) carries from one call to the next.

    One object per stream (one video), used in order; zeros ``float32 (1, 1, 1, 1)`` at the
    start, as RVM's exports expect. A model without state ignores it.
    """

    def __init__(self) -> None:
        self.values: dict[str, np.ndarray] = {}

    def feeds(self, spec: ModelSpec) -> dict[str, np.ndarray]:
        zero = np.zeros((1, 1, 1, 1), np.float32)
        return {inp: self.values.get(inp, zero) for _, inp in spec.state}

    def update(self, spec: ModelSpec, outputs: dict[str, np.ndarray]) -> None:
        for out, inp in spec.state:
            self.values[inp] = outputs[out]

    def reset(self) -> None:
        self.values.clear()


@dataclass
class ModelSession:
    """A loaded model: its spec, the ONNX Runtime session, and its input/output names."""

    spec: ModelSpec
    session: Any
    input_name: str
    output_name: str
    path: Path
    output_names: tuple[str, ...] = ()
    release_options: Any = None

    def run(self, batch: Tensor, *, state: RecurrentState | None = None,
            release_arena: bool = False) -> np.ndarray:
        """Forward pass: ``float32 (N, 3, h, w)`` -> the chosen output ``(N, C, h, w)``.

        A batch larger than the graph takes (``spec.batch``) runs in slices. A recurrent
        model needs ``state`` (frames one at a time, in order) and updates it.

        ``release_arena`` gives the arena's activation memory back to the system after the
        run (250-300 MB for u2net/u2netp), lowering peak RSS while a large image's
        full-resolution stages run. It costs the next run its allocations again (a batch of
        1 MP photos ran 20% slower with it on every run), so callers ask for it on large
        images only.
        """
        options = self.release_options if release_arena else None
        if self.spec.recurrent:
            return self._run_recurrent(batch, state, options)
        step = max(1, self.spec.batch)
        parts = [self._ort_run([self.output_name], self._feeds(batch[i:i + step]), options)[0]
                 for i in range(0, len(batch), step)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def run_all(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every output by name, for callers that feed the graph themselves."""
        values = self._ort_run(list(self.output_names), feeds)
        return dict(zip(self.output_names, values, strict=True))

    def _ort_run(self, names: list[str], feeds: dict[str, np.ndarray],
                 options: Any = None) -> list[np.ndarray]:
        """``session.run``; an ONNX Runtime failure (the graph refuses the spec's input shape
        or name) is the model's fault: ``WeightsError`` naming the spec."""
        try:
            return list(self.session.run(names, feeds, options))
        except Exception as exc:  # ORT raises its own exception types
            shapes = ", ".join(f"{k} {tuple(np.shape(v))}" for k, v in feeds.items())
            reason = " ".join(str(exc).split())[:500]
            raise WeightsError(f"model {self.spec.name} cannot run on the input its spec "
                               f"gives ({shapes}); check the spec's input_size, resize and "
                               f"input_name against the graph: {reason}") from exc

    def _feeds(self, batch: Tensor) -> dict[str, np.ndarray]:
        feeds = {self.input_name: batch}
        if self.spec.ratio_input:
            side = max(batch.shape[-2:])
            ratio = min(1.0, self.spec.ratio_side / max(side, 1))
            feeds[self.spec.ratio_input] = np.array([ratio], np.float32)
        return feeds

    def _run_recurrent(self, batch: Tensor, state: RecurrentState | None,
                       options: Any) -> np.ndarray:
        if state is None:
            from alphacut.errors import InvalidOption

            raise InvalidOption(f"{self.spec.name} is a recurrent video model: it runs on "
                                "frames in order with a state (alphacut video), not on photos")
        outs = []
        for i in range(len(batch)):
            feeds = {**self._feeds(batch[i:i + 1]), **state.feeds(self.spec)}
            values = dict(zip(self.output_names,
                              self._ort_run(list(self.output_names), feeds, options),
                              strict=True))
            state.update(self.spec, values)
            outs.append(values[self.output_name])
        return outs[0] if len(outs) == 1 else np.concatenate(outs)


_LOCK = threading.Lock()
_SESSIONS: dict[tuple[ModelSpec, int], ModelSession] = {}


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
    key = (spec, threads)  # the whole spec: two specs of one file may preprocess differently
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
        return sorted({key[0].name for key in _SESSIONS})


def _create(spec: ModelSpec, path: Path, threads: int) -> ModelSession:
    import onnxruntime as ort

    from alphacut.runtime.graphs import create_session

    def factory(model: Path, optimise: bool, save_to: Path | None) -> Any:
        options = session_options(threads)
        if not optimise:  # a graph ONNX Runtime optimised and saved before
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        if save_to is not None:
            options.optimized_model_filepath = str(save_to)
        return ort.InferenceSession(str(model), sess_options=options,
                                    providers=["CPUExecutionProvider"])

    try:
        session = create_session(path, factory)
    except Exception as exc:  # ORT raises its own exception types
        raise WeightsError(f"cannot load model {spec.name} from {path}: {exc}") from exc
    inputs = session.get_inputs()
    outputs = session.get_outputs()
    input_name, output_name = _io_names(spec, [i.name for i in inputs],
                                        [o.name for o in outputs])
    release = ort.RunOptions()
    release.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return ModelSession(spec, session, input_name, output_name, path,
                        tuple(o.name for o in outputs), release)


def _io_names(spec: ModelSpec, inputs: list[str], outputs: list[str]) -> tuple[str, str]:
    """The image input and the mask output the spec names, checked against the graph."""
    input_name = spec.input_name or inputs[0]
    if input_name not in inputs:
        raise WeightsError(f"model {spec.name} has no input {input_name!r}; it has {inputs}")
    wanted = {inp for _, inp in spec.state} | ({spec.ratio_input} if spec.ratio_input else set())
    missing = sorted(wanted - set(inputs)) + sorted({o for o, _ in spec.state} - set(outputs))
    if missing:
        raise WeightsError(f"model {spec.name} lacks the tensors its spec names: {missing}")
    if spec.output_name is not None:
        if spec.output_name not in outputs:
            raise WeightsError(f"model {spec.name} has no output {spec.output_name!r}; "
                               f"it has {outputs}")
        return input_name, spec.output_name
    if not 0 <= spec.output_index < len(outputs):
        raise WeightsError(f"model {spec.name} has {len(outputs)} outputs; spec asks for "
                           f"{spec.output_index}")
    return input_name, outputs[spec.output_index]
