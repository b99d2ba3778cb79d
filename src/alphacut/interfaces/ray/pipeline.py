"""The batch as Ray Data stages, streamed back to the driver row by row.

    from_items(src, dest)                       the plan (paths or URLs; no pixels on the driver)
    .map(load_row)          task                read bytes, decode, preprocess
    .map_batches(InferActor) actor pool         every model pass, sessions loaded once per actor
    .map(finish_row)        task                mask, refine, encode, write (temp+rename or PUT)
    .iter_rows()            driver              manifest line + progress per finished item

Ray Data streams: blocks move through the stages as resources free up, a bounded number in
flight, so neither the driver nor the object store holds the whole set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ray

from alphacut.config import Config
from alphacut.interfaces.ray.tasks import actor_class, finish_row, load_row

ROWS_PER_BLOCK = 4  # small blocks: a 1 MP photo is ~4 MB once decoded, and retries stay cheap


@dataclass(frozen=True)
class Resources:
    """How the work is spread: ``actors`` inference actors of ``actor_cpus`` logical CPUs each
    (ONNX Runtime gets as many threads), ``task_cpus`` per load/finish task, ``batch`` images
    per model call."""

    actors: int
    actor_cpus: int = 1
    task_cpus: float = 0.5
    batch: int = 2


def choose_resources(cluster_cpus: float, actors: int | None, threads: int | None
                     ) -> Resources:
    """Defaults for a cluster of ``cluster_cpus`` logical CPUs.

    Each actor reserves ``threads`` CPUs (default 1) and runs its session on that many ONNX
    Runtime threads. The model is about two thirds of an image's CPU time (u2netp, 1 MP,
    ``balanced``), the rest is decode, refine and encode in tasks of half a CPU: so by
    default two thirds of the CPUs go to actors, rounded down, at least one actor, and at
    least one CPU is left for the tasks.
    """
    per_actor = max(1, threads or 1)
    if actors is None:
        share = int(cluster_cpus * 2 / 3) // per_actor
        actors = max(1, min(share, int(cluster_cpus - 1) // per_actor))
    return Resources(actors=max(1, actors), actor_cpus=per_actor)


def run_rows(rows: list[dict[str, str]], config: Config, resources: Resources
             ) -> Iterator[dict[str, Any]]:
    """Yield one finished row (``src``, ``dest``, ``code``, ``error``, ``timings``) per input
    row, in completion order."""
    if not rows:
        return
    config = config.replace(threads=resources.actor_cpus)
    blocks = max(1, -(-len(rows) // ROWS_PER_BLOCK))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    dataset = dataset.map(load_row, fn_kwargs={"config": config},
                          num_cpus=resources.task_cpus)
    pool = ray.data.ActorPoolStrategy(size=resources.actors)
    dataset = dataset.map_batches(actor_class(config), batch_size=resources.batch,
                                  batch_format="numpy", compute=pool,
                                  num_cpus=resources.actor_cpus, zero_copy_batch=True)
    dataset = dataset.map(finish_row, fn_kwargs={"config": config},
                          num_cpus=resources.task_cpus)
    yield from dataset.iter_rows()


def cluster_cpus() -> float:
    return float(ray.cluster_resources().get("CPU", 1.0))
