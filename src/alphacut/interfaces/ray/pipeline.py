"""The batch as Ray Data stages, streamed back to the driver row by row.

Fused (the default):

    from_items(src, dest)                       the plan (paths or URLs; no pixels on the driver)
    .map_batches(FusedActor) actor pool         read, decode, infer, refine, encode, write:
                                                the local batch's pipeline inside each actor
    .iter_batches(prefetch_batches=0)           driver: manifest line + progress per item

Split stages (``split_stages=True``, the issue's first layout):

    from_items(src, dest)
    .map(load_row)          task                read bytes, decode, preprocess
    .map_batches(InferActor) actor pool         every model pass, sessions loaded once per actor
    .map(finish_row)        task                mask, refine, encode, write (temp+rename or PUT)
    .iter_batches(...)      driver              manifest line + progress per finished item

Ray Data streams: blocks move through the stages as resources free up, a bounded number in
flight, so neither the driver nor the object store holds the whole set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ray

from alphacut.config import Config
from alphacut.interfaces.ray.tasks import actor_class, finish_row, load_row

ROWS_PER_BLOCK = 4  # small blocks: a 1 MP photo is ~4 MB once decoded, and retries stay cheap
MAX_INPUT_BLOCKS = 256  # the driver keeps every input block's metadata while the run lasts


ACTOR_SHARE = 0.75  # split: logical CPUs an actor reserves per ONNX Runtime thread
TASK_CPUS = 0.25  # split: per load/finish task
FUSED_ROWS = 8  # fused: rows per input block = per actor call (its pipeline drains at the end)
FUSED_QUEUE = 1  # fused: calls per actor at once (2 queued a second call on the first actor up)


@dataclass(frozen=True)
class Resources:
    """How the work is spread: ``actors`` inference actors, each running its session on
    ``threads`` ONNX Runtime threads and reserving ``actor_cpus`` logical CPUs;
    ``task_cpus`` per load/finish task, at most ``tasks`` of each stage at once;
    ``batch`` images per model call."""

    actors: int
    threads: int = 1
    actor_cpus: float = ACTOR_SHARE
    task_cpus: float = TASK_CPUS
    batch: int = 2
    tasks: int | None = None
    split: bool = False


def choose_resources(cluster_cpus: float, actors: int | None, threads: int | None, *,
                     split: bool = False) -> Resources:
    """Defaults for a cluster of ``cluster_cpus`` logical CPUs: one actor per ``threads``
    CPUs (default one single-threaded actor per CPU, what the local batch does per core).

    An actor reserves three quarters of a CPU per thread and each load/finish task a quarter,
    so on every node the tasks (decode, refine, encode: about a third of an image's CPU time
    with u2netp at 1 MP) run beside the actors instead of waiting for one to end; the model
    threads and the tasks then share the cores as the local batch's threads do.

    Each task stage runs at most one task per CPU at once. Once the actors hold their share
    that is all the room left anyway; the cap matters at the start, before the actors are
    up, when quarter-CPU load tasks would otherwise take every slot (four per CPU) and make
    Ray start a worker process for each (~2 s of CPU apiece for the imports), most of which
    then idle. Measured on two simulated nodes, 60 photos: 5 finish workers -> 4, CPU per
    image 1.075 -> 0.842 s (docs/ray.md).

    Fused (``split`` False), an actor does an image's whole work, so it reserves one CPU per
    ONNX Runtime thread (its loader and finisher threads share that core with the model, as
    in the local batch) and there are no tasks.
    """
    per_actor = max(1, threads or 1)
    if actors is None:
        actors = max(1, int(cluster_cpus // per_actor))
    if not split:
        return Resources(actors=max(1, actors), threads=per_actor, actor_cpus=per_actor,
                         batch=FUSED_ROWS)
    return Resources(actors=max(1, actors), threads=per_actor,
                     actor_cpus=ACTOR_SHARE * per_actor, tasks=max(1, int(cluster_cpus)),
                     split=True)


def run_rows(rows: list[dict[str, str]], config: Config, resources: Resources
             ) -> Iterator[dict[str, Any]]:
    """Yield one finished row (``src``, ``dest``, ``code``, ``error``, ``timings``) per input
    row, in completion order, each as soon as its block reaches the driver.

    Not ``Dataset.iter_rows``: it prefetches one block, and measured (Ray 2.60) that holds
    each block back until the next one arrives, so the last finished items of a run that is
    waiting on a slow item (or killed then) were never recorded."""
    if not rows:
        return
    with _context(fused=not resources.split):  # a dataset keeps the context it was made in
        dataset = _build(rows, config.replace(threads=resources.threads), resources)
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy",
                                      prefetch_batches=0):
        columns = list(batch)
        for values in zip(*(batch[c] for c in columns), strict=True):
            yield {c: _plain(v) for c, v in zip(columns, values, strict=True)}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value ``iter_rows`` would have given."""
    return value.item() if hasattr(value, "item") else value


def _build(rows: list[dict[str, str]], config: Config, resources: Resources) -> Any:
    """The Ray Data graph. The input is cut into at most ``MAX_INPUT_BLOCKS`` blocks: the
    driver holds each input block's bookkeeping until the run ends (measured: ~0.15 MB per
    block, so 4-row blocks made 10k images cost the driver ~350 MB more than 1k did); past
    that, load tasks take more rows each, and their outputs still stream in small blocks."""
    per_block = ROWS_PER_BLOCK if resources.split else _fused_rows(len(rows), resources)
    blocks = max(1, min(-(-len(rows) // per_block), MAX_INPUT_BLOCKS))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    if not resources.split:
        return _fused(dataset, config, resources)
    tasks = ray.data.TaskPoolStrategy(size=resources.tasks)  # (``concurrency=`` is deprecated)
    dataset = dataset.map(load_row, fn_kwargs={"config": config},
                          num_cpus=resources.task_cpus, compute=tasks)
    pool = ray.data.ActorPoolStrategy(size=resources.actors)
    dataset = dataset.map_batches(actor_class(config), batch_size=resources.batch,
                                  batch_format="numpy", compute=pool,
                                  num_cpus=resources.actor_cpus, zero_copy_batch=True)
    return dataset.map(finish_row, fn_kwargs={"config": config},
                       num_cpus=resources.task_cpus, compute=tasks)


def _fused_rows(count: int, resources: Resources) -> int:
    """Rows per fused call: ``resources.batch``, fewer when that would leave an actor without
    a call (9 rows, 3 actors: 3 calls of 3, not 2 of 5 and 4). Ray Data releases an actor as
    idle once every input is handed out, so a short run would otherwise not use it at all."""
    return max(1, min(resources.batch, -(-count // resources.actors)))


def _fused(dataset: Any, config: Config, resources: Resources) -> Any:
    """One actor pool doing every stage of its rows (``fused.FusedActor``).

    One call per input block (``batch_size=None``; the blocks are cut to ``resources.batch``
    rows, fewer past ``MAX_INPUT_BLOCKS``): with a row ``batch_size`` Ray Data bundles blocks
    up to it (9 rows in blocks of 3/3/3 made one 9-row task). One call in flight per actor:
    with two, the first actor up took the first two blocks, Ray Data then saw every input
    handed out and released the other actors as idle (Ray 2.60, "consumed all inputs"), so
    a short run used one actor and a slow item held back the block queued behind it.
    """
    from alphacut.interfaces.ray.fused import fused_class

    pool = ray.data.ActorPoolStrategy(size=resources.actors,
                                      max_tasks_in_flight_per_actor=FUSED_QUEUE)
    return dataset.map_batches(fused_class(config), batch_size=None,
                               batch_format="numpy", compute=pool,
                               num_cpus=resources.actor_cpus)


@contextmanager
def _context(*, fused: bool) -> Iterator[None]:
    """Ray Data's context for one run, restored after it is built.

    - No per-operator resource reservations: with them, on small nodes the finish stage's
      CPU share rounds down to nothing (measured on the two-node simulation, 1 CPU each: no
      item finished until every load had run, holding the whole set in the object store).
      The streaming executor's backpressure still bounds what is in flight.
    - Fused: every row an actor yields is its own output block (``target_max_block_size``
      of 1 byte; the rows are ~200 bytes of paths and codes), so it reaches the driver when
      the item is written, not when the actor's whole call ends.
    """
    context = ray.data.DataContext.get_current()
    saved = context.op_resource_reservation_enabled, context.target_max_block_size
    context.op_resource_reservation_enabled = False
    if fused:
        context.target_max_block_size = 1
    try:
        yield
    finally:
        context.op_resource_reservation_enabled, context.target_max_block_size = saved


def cluster_cpus() -> float:
    return float(ray.cluster_resources().get("CPU", 1.0))
