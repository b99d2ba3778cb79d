"""What runs on the workers: the engine's split points as functions of Ray Data rows.

No ``ray`` import here: these are plain functions and one plain class, which Ray Data calls
(``map`` for ``load_row``/``finish_row``, an actor pool of ``InferActor`` via
``map_batches``). Rows are dicts; the heavy parts travel pickled in one binary column:

- in:           ``src``, ``dest`` (paths or URLs)
- after load:   + ``item`` (a pickled ``Prepared``), ``code``, ``error`` (empty: no failure)
- after infer:  + ``inferred`` (a pickled ``(Inferred, model seconds)``)
- after finish: ``src``, ``dest``, ``code``, ``error``, ``timings`` (JSON), ``worker``

An item that fails keeps flowing with ``code``/``error`` set and its heavy columns empty, so
a bad image is a recorded failure and never a failed job.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from alphacut.config import Config
from alphacut.errors import AlphacutError

if TYPE_CHECKING:
    import numpy as np

    from alphacut.engine import Engine, Inferred, Prepared

Row = dict[str, Any]
Batch = dict[str, "np.ndarray"]
EMPTY = b""


@lru_cache(maxsize=4)
def engine_for(config: Config) -> Engine:
    """One Engine per config per worker process (cheap: sessions load only in ``infer``)."""
    from alphacut.engine import Engine

    return Engine(config)


def failed(row: Row, exc: Exception) -> Row:
    """``row`` marked failed with ``exc`` as a typed error (code + message naming the input)."""
    from alphacut.interfaces.batch import Job, failure

    error = exc if isinstance(exc, AlphacutError) else failure(Job(row["src"], row["src"]),
                                                               exc).error
    message = str(error)
    if not message.startswith(str(row["src"])):
        message = f"{row['src']}: {message}"
    return {**row, "code": error.code if error else "internal_error", "error": message}


def load_row(row: Row, config: Config) -> Row:
    """Read + decode + preprocess one input (a task): ``item`` holds the pickled Prepared."""
    from alphacut.interfaces.ray.storage import read_bytes

    out = {"src": row["src"], "dest": row["dest"], "item": EMPTY, "code": "", "error": ""}
    try:
        engine = engine_for(config)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        data = read_bytes(row["src"])
        timings["read"] = time.perf_counter() - start
        item = engine.prepare(engine.decode(data, timings), timings)
        out["item"] = pickle.dumps(item, protocol=5)
    except Exception as exc:
        return failed(out, exc)
    return out


class InferActor:
    """One inference actor: loads every model pass's session once, then runs batches.

    ``config.runtime.threads`` is the ONNX Runtime thread count, set by the pipeline from the
    actor's CPU reservation (``pipeline.Resources``). Use ``actor_class(config)``: the config
    travels inside the class, so a restarted actor needs no constructor argument.
    """

    config: Config

    def __init__(self) -> None:
        self.engine = engine_for(self.config)
        self.engine.load()

    def __call__(self, batch: Batch) -> Batch:
        import numpy as np

        items = batch["item"]
        ok = [i for i, data in enumerate(items) if len(data)]
        inferred = np.array([EMPTY] * len(items), dtype=object)
        codes = np.array(batch["code"], dtype=object)  # not fixed-width: messages get longer
        errors = np.array(batch["error"], dtype=object)
        prepared = {i: pickle.loads(items[i]) for i in ok}
        for i, answer in self._answers(prepared).items():
            if isinstance(answer, Exception):
                row = failed({"src": batch["src"][i]}, answer)
                codes[i], errors[i] = row["code"], row["error"]
            else:  # the item's share of the batch's model time travels with the answer
                seconds = prepared[i].timings.get("infer", 0.0)
                inferred[i] = pickle.dumps((answer, seconds), protocol=5)
        return {**batch, "inferred": inferred, "code": codes, "error": errors}

    def _answers(self, prepared: dict[int, Prepared]) -> dict[int, Inferred | Exception]:
        """The batch in one call; if that raises, each item alone, so a bad item fails
        alone and a batch error never fails the job."""
        if not prepared:
            return {}
        try:
            return dict(zip(prepared, self.engine.infer(list(prepared.values())), strict=True))
        except Exception as exc:
            if len(prepared) == 1:
                return {i: exc for i in prepared}
        answers: dict[int, Inferred | Exception] = {}
        for i, item in prepared.items():
            try:
                answers[i] = self.engine.infer([item])[0]
            except Exception as exc:
                answers[i] = exc
        return answers


def actor_class(config: Config) -> type[InferActor]:
    """``InferActor`` bound to ``config`` (what ``map_batches`` is given)."""
    return type("AlphacutInfer", (InferActor,), {"config": config, "__module__": __name__})


def finish_row(row: Row, config: Config) -> Row:
    """mask + refine + encode + write one item (a task); heavy columns dropped."""
    from alphacut.interfaces.ray.storage import write_once

    out = {"src": row["src"], "dest": row["dest"], "code": row["code"], "error": row["error"],
           "timings": "{}", "worker": worker_name()}
    if out["code"]:
        return out
    try:
        engine = engine_for(config)
        item = pickle.loads(row["item"])
        inferred, item.timings["infer"] = pickle.loads(row["inferred"])
        data = engine.render(engine.finish(item, inferred))
        start = time.perf_counter()
        write_once(row["dest"], data)
        item.timings["write"] = time.perf_counter() - start
        out["timings"] = json.dumps(item.timings)
    except Exception as exc:
        return failed(out, exc)
    return out


def worker_name() -> str:
    """This worker's host and process id (which worker wrote a row)."""
    return f"{socket.gethostname()}:{os.getpid()}"
