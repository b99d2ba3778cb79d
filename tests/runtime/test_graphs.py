"""The saved optimised graph (runtime/graphs.py): a second process loads ONNX Runtime's own
optimised graph instead of optimising again, computes the very same mask, and a damaged or
forged graph is made again rather than used. Real u2netp weights in a temporary cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alphacut.models.registry import get_spec
from alphacut.runtime import graphs, session
from alphacut.runtime.weights import cache_dir

U2NETP = get_spec("u2netp")
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"


def photo_tensor() -> np.ndarray:
    """The sample photo as u2netp's input ``float32 (1, 3, 320, 320)``."""
    rgb = np.asarray(Image.open(SAMPLE).convert("RGB").resize((320, 320)), np.float32) / 255
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    return ((rgb - mean) / std).astype(np.float32).transpose(2, 0, 1)[None]


def mask_of(model: session.ModelSession) -> np.ndarray:
    return model.run(photo_tensor())


def test_the_second_session_loads_the_saved_graph_and_gives_the_same_mask(
        cached_copy: Path) -> None:
    first = session._create(U2NETP, cached_copy, 1)
    graph = graphs.graph_path(cached_copy)
    assert graph is not None and graph.is_file() and graph.stat().st_size > 100_000
    made = graph.stat().st_mtime_ns
    second = session._create(U2NETP, cached_copy, 1)
    assert graph.stat().st_mtime_ns == made  # read, not made again
    assert np.array_equal(mask_of(first), mask_of(second))


@pytest.mark.parametrize("damage", ["truncated", "forged"])
def test_a_damaged_graph_is_made_again_not_used(cached_copy: Path, damage: str) -> None:
    reference = mask_of(session._create(U2NETP, cached_copy, 1))
    graph = graphs.graph_path(cached_copy)
    assert graph is not None
    if damage == "truncated":
        graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])  # stamp mismatch
    else:  # garbage, with a stamp that matches it: loading fails, so it is discarded
        graph.write_bytes(b"not an onnx graph" * 100)
        graphs.write_text_atomic(graphs._stamp(graph),
                                 json.dumps(graphs._identity(graph)))
    again = session._create(U2NETP, cached_copy, 1)
    assert np.array_equal(mask_of(again), reference)
    assert graph.stat().st_size > 100_000  # a sound graph is back


def test_a_users_own_model_file_gets_no_saved_graph(real_u2netp: Path, tmp_path: Path) -> None:
    own = tmp_path / "mine" / "u2netp.onnx"
    own.parent.mkdir()
    shutil.copyfile(real_u2netp, own)
    assert graphs.graph_path(own) is None
    session._create(U2NETP, own, 1)
    assert not (cache_dir().parent / "graphs").exists()


def test_saving_a_graph_sweeps_graphs_no_process_here_can_use(cached_copy: Path) -> None:
    import onnxruntime as ort

    folder = cache_dir().parent / "graphs"
    folder.mkdir(parents=True, exist_ok=True)
    stem, tag = cached_copy.stem, graphs.cpu_tag()
    old_ort = folder / f"{stem}-ort0.0.1-{tag}.onnx"
    orphan = folder / f"gone-0123456789abcdef-ort{ort.__version__}-{tag}.onnx"
    other_cpu = folder / f"{stem}-ort{ort.__version__}-{'f' * 12}.onnx"
    unrelated = folder / "notes.onnx"
    for path in (old_ort, orphan, other_cpu, unrelated):
        path.write_bytes(b"x")
        graphs._stamp(path).write_text("{}")
    session._create(U2NETP, cached_copy, 1)
    graph = graphs.graph_path(cached_copy)
    assert graph is not None and graph.is_file() and graphs._stamp(graph).is_file()
    assert not old_ort.exists() and not graphs._stamp(old_ort).exists()
    assert not orphan.exists()
    assert other_cpu.exists() and unrelated.exists()  # another machine's; not ours to judge
