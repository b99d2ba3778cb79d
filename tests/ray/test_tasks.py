"""The worker-side row functions without a cluster (real u2netp, real photos)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from alphacut.config import Config
from alphacut.interfaces.ray.tasks import actor_class, finish_row, load_row
from helpers import PETS

pytestmark = pytest.mark.model
CONFIG = Config.build(model="u2netp", threads=1)


def _batch(rows: list[dict[str, object]]) -> dict[str, np.ndarray]:
    """Rows as Ray Data's numpy batch format gives them (strings fixed-width)."""
    return {key: np.array([row[key] for row in rows],
                          dtype=object if key == "item" else None) for key in rows[0]}


def test_an_item_failing_in_the_model_fails_alone(tmp_path: Path) -> None:
    rows = [load_row({"src": str(p), "dest": str(tmp_path / f"{p.stem}.png")}, CONFIG)
            for p in PETS[:2]]
    broken = pickle.loads(rows[1]["item"])
    broken.tensors = [np.zeros((1, 4, 320, 320), np.float32)]  # the graph takes 3 channels
    rows[1]["item"] = pickle.dumps(broken)
    out = actor_class(CONFIG)()(_batch(rows))
    assert out["code"][0] == "" and len(out["inferred"][0]) > 0
    assert out["code"][1] and str(out["error"][1]).startswith(str(PETS[1]))
    done = finish_row({k: v[0] for k, v in out.items()}, CONFIG)
    assert done["code"] == "" and (tmp_path / f"{PETS[0].stem}.png").stat().st_size > 0
    skipped = finish_row({k: v[1] for k, v in out.items()}, CONFIG)
    assert skipped["code"] == out["code"][1] and not (tmp_path / f"{PETS[1].stem}.png").exists()


def test_a_missing_input_is_a_typed_failure(tmp_path: Path) -> None:
    row = load_row({"src": str(tmp_path / "nope.jpg"), "dest": str(tmp_path / "x.png")}, CONFIG)
    assert row["code"] == "invalid_image" and row["item"] == b""
    assert "nope.jpg" in row["error"]


def test_a_fused_actor_writes_what_the_split_stages_write_and_fails_items_alone(
        tmp_path: Path) -> None:
    from alphacut.interfaces.ray.fused import fused_class

    split, fused = tmp_path / "split", tmp_path / "fused"
    rows = [load_row({"src": str(p), "dest": str(split / f"{p.stem}.png")}, CONFIG)
            for p in PETS[:2]]
    inferred = actor_class(CONFIG)()(_batch(rows))
    for i in range(2):
        assert finish_row({k: v[i] for k, v in inferred.items()}, CONFIG)["code"] == ""
    sources = [str(PETS[0]), str(tmp_path / "missing.jpg"), str(PETS[1])]
    batch = {"src": np.array(sources),
             "dest": np.array([str(fused / f"{Path(s).stem}.png") for s in sources])}
    yielded = []
    for part in fused_class(CONFIG)()(batch):  # one single-row batch per item, as it is done
        assert {len(v) for v in part.values()} == {1}
        assert part["code"][0] or Path(str(part["dest"][0])).exists()  # written before yielded
        yielded.append(part)
    out = {key: [part[key][0] for part in yielded] for key in yielded[0]}
    assert list(out["src"]) == sources and list(out["code"]) == ["", "invalid_image", ""]
    assert str(out["error"][1]).startswith(sources[1])
    assert sorted(p.name for p in fused.iterdir()) == sorted(p.name for p in split.iterdir())
    for path in split.iterdir():
        assert (fused / path.name).read_bytes() == path.read_bytes()
    assert "infer" in json.loads(str(out["timings"][0]))


def test_a_fused_actor_refines_on_its_own_cpus_only(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An actor of 1 CPU (``threads=1``) refines on 1 thread, though the machine has 2: two
    such actors on one 2-core node must not each start two refine threads."""
    from alphacut.core.refine.tiles import refine_threads
    from alphacut.engine import stages
    from alphacut.interfaces.ray.fused import fused_class

    monkeypatch.setattr("alphacut.core.refine.tiles.THREADS", 2)
    monkeypatch.setenv("ALPHACUT_THREADS", "2")
    budgets: list[int] = []
    refine = stages.refine_matte

    def counted(*args: object, **kwargs: object) -> object:
        budgets.append(refine_threads())
        return refine(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stages, "refine_matte", counted)
    sources = [str(p) for p in PETS[:2]]
    batch = {"src": np.array(sources),
             "dest": np.array([str(tmp_path / f"{Path(s).stem}.png") for s in sources])}
    parts = list(fused_class(CONFIG)()(batch))
    assert [part["code"][0] for part in parts] == ["", ""]
    assert budgets == [1, 1]
