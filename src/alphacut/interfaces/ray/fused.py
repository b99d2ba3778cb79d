"""The fused layout (the default; ``split_stages=True`` is the other): one actor pool over
the file list, each actor running whole items the way the local batch does on one core.

Rows in: ``src``, ``dest`` (paths or URLs). Rows out: ``src``, ``dest``, ``code``, ``error``
(empty: no failure), ``timings`` (JSON), ``worker``. No pixels, tensors or masks ever leave
the actor, so nothing heavy crosses the object store and no freshly started task worker
faults in a 4 MB row per image (the split layout's two costs, docs/ray.md).

Inside an actor each batch of rows goes through the local batch's own scheduler,
``batch.iter_pipeline`` (one image in the model at a time, the next one read and decoded on
a loader thread, the one before refined, encoded and written on a finisher thread), with the
engine's calls as the steps: the engine owns the stage order; this module only says where
bytes come from and go to. No ``ray`` import here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphacut.config import Config
from alphacut.interfaces.ray.tasks import engine_for, failed, worker_name

if TYPE_CHECKING:
    import numpy as np

    from alphacut.engine import Engine, Inferred, Prepared
    from alphacut.interfaces.batch import Steps
    from alphacut.interfaces.jobs import Job, Outcome

Batch = dict[str, "np.ndarray"]


class FusedActor:
    """Reads, decodes, infers, refines, encodes and writes its rows; every session loaded
    once per actor, on ``config.runtime.threads`` ONNX Runtime threads (the pipeline sets
    them to the actor's ``num_cpus``). Use ``fused_class(config)``: the config travels
    inside the class, so a restarted actor needs no constructor argument."""

    config: Config

    def __init__(self) -> None:
        self.engine = engine_for(self.config)
        self.engine.load()

    def __call__(self, batch: Batch) -> Iterator[Batch]:
        """``batch``: ``src``, ``dest`` arrays of N strings; yields one single-row batch of
        the output columns per item, in input order, as soon as that item is written (the
        pipeline's ``target_max_block_size`` makes each its own block), so the driver
        records it at once and a run stopped mid-call loses no finished item's record."""
        import numpy as np

        from alphacut.interfaces.batch import iter_pipeline
        from alphacut.interfaces.jobs import Job

        rows = [{"src": str(s), "dest": str(d)} for s, d in
                zip(batch["src"], batch["dest"], strict=True)]
        jobs = [Job(Path(row["src"]), Path(row["src"])) for row in rows]
        places = {id(job): (row["src"], row["dest"]) for job, row in zip(jobs, rows, strict=True)}
        outcomes = iter_pipeline(jobs, item_steps(self.engine, places), workers=1,
                                 cores=self.config.runtime.threads)
        for row, outcome in zip(rows, outcomes, strict=True):
            done = _row(row, outcome)
            yield {key: np.array([value], dtype=object) for key, value in done.items()}


def item_steps(engine: Engine, places: dict[int, tuple[str, str]]) -> Steps:
    """The engine's calls as ``run_pipeline`` steps: read + decode + prepare, infer (one
    image), finish + render + write once; ``places`` maps ``id(job)`` to its (source,
    destination) as given: a path or a URL (``Path`` would fold ``s3://`` to ``s3:/``)."""
    from alphacut.interfaces.batch import Steps
    from alphacut.interfaces.jobs import Outcome
    from alphacut.interfaces.ray.storage import read_bytes, write_once

    def load(job: Job) -> Prepared:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        data = read_bytes(places[id(job)][0])
        timings["read"] = time.perf_counter() - start
        return engine.prepare(engine.decode(data, timings), timings)

    def infer(item: Prepared) -> Inferred:
        return engine.infer([item])[0]

    def finish(job: Job, item: Prepared, inferred: Inferred) -> Outcome:
        data = engine.render(engine.finish(item, inferred))
        start = time.perf_counter()
        write_once(places[id(job)][1], data)
        item.timings["write"] = time.perf_counter() - start
        return Outcome(job, timings=item.timings)

    return Steps(load, infer, finish)


def _row(row: dict[str, str], outcome: Outcome) -> dict[str, Any]:
    out = {**row, "code": "", "error": "", "timings": "{}", "worker": worker_name()}
    if outcome.error is not None:
        error, folded = outcome.error, f"{outcome.job.source}: "
        if str(error).startswith(folded) and not str(error).startswith(row["src"]):
            error.args = (f"{row['src']}: {str(error)[len(folded):]}",)  # the URL as given
        return failed(out, error)
    out["timings"] = json.dumps(outcome.timings)
    return out


def fused_class(config: Config) -> type[FusedActor]:
    """``FusedActor`` bound to ``config`` (what ``map_batches`` is given)."""
    return type("AlphacutFused", (FusedActor,), {"config": config, "__module__": __name__})
