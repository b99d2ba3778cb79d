"""Run a predictor over evaluation sets and collect every number.

``predict(image_path) -> (alpha, seconds)``: ``alpha`` is ``float32 (H, W)`` in [0, 1] at the
image's full size; ``seconds`` maps stage name → wall seconds.

Pooling: per-image metrics (MAE, IoU, SAD, MSE, gradient, connectivity) are averaged over images;
F-measure, weighted F, S and E use pysodmetrics' set-level pooling (see ``metrics``). The
``overall`` entry pools the images of every set the same way (mask metrics over the mask sets,
matte metrics over the matte sets). Each set keeps per-image records so the worst can be shown.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alphacut.core.cutout import alpha_to_u8
from alphacut.eval.datasets import Dataset, Sample, discover
from alphacut.eval.metrics import MaskScorer, matte_errors, mean_metrics

Predictor = Callable[[Path], tuple[npt.NDArray[np.float32], dict[str, float]]]
WORST_KEY = "_worst"  # in-memory only: (name -> uint8 prediction) for the gallery; not in JSON


def make_predictor(*, output: str = "alpha", **options: Any) -> Predictor:
    """Build one engine from flat config options and return ``predict``.

    ``output="alpha"`` scores the final matte; ``output="mask"`` scores the model's soft mask
    (same run, no refinement in the score) for raw-vs-refined comparisons.
    """
    from alphacut.engine import Engine

    if output not in ("alpha", "mask"):
        raise ValueError(f"output must be 'alpha' or 'mask', not {output!r}")
    engine = Engine(**options)

    def predict(image_path: Path) -> tuple[npt.NDArray[np.float32], dict[str, float]]:
        result = engine.remove(image_path)
        alpha = result.alpha if output == "alpha" else result.soft
        return np.asarray(alpha, dtype=np.float32), dict(result.timings)

    return predict


def evaluate(dataset_dirs: Iterable[str | Path], *, predict: Predictor, config_label: str,
             limit: int | None = None, progress: bool = True, keep_worst: int = 8
             ) -> dict[str, Any]:
    """Score ``predict`` on every set; returns ``{"config", "sets": {name: ...}, "overall"}``.

    Each set entry: ``kind``, ``root``, ``count``, ``metrics`` (set level), ``timings`` (mean
    seconds per stage, plus ``predict_wall``), ``images`` (per-image name/metrics/timings),
    ``rank_by`` and, in memory only, the ``keep_worst`` worst predictions under ``WORST_KEY``.
    """
    datasets = [discover(d) for d in dataset_dirs]
    scorers: list[MaskScorer] = []
    sets: dict[str, Any] = {}
    with _progress(progress) as bar:
        for dataset in datasets:
            total = len(dataset) if limit is None else min(limit, len(dataset))
            task = bar.add_task(f"{config_label} · {dataset.name}", total=total) if bar else None
            entry, scorer = _evaluate_set(dataset, predict, limit, keep_worst,
                                          lambda t=task: bar.advance(t) if bar else None)
            sets[dataset.name] = entry
            if scorer is not None:
                scorers.append(scorer)
    return {"config": config_label, "sets": sets, "overall": _overall(sets, scorers)}


def _evaluate_set(dataset: Dataset, predict: Predictor, limit: int | None, keep_worst: int,
                  advance: Callable[[], None]) -> tuple[dict[str, Any], MaskScorer | None]:
    scorer = MaskScorer() if dataset.kind == "mask" else None
    rank_by = "mae" if dataset.kind == "mask" else "sad"
    images: list[dict[str, Any]] = []
    worst: list[tuple[float, int, str, npt.NDArray[np.uint8]]] = []
    for i, sample in enumerate(dataset.samples(limit=limit)):
        record, alpha = _evaluate_sample(sample, predict, dataset, scorer)
        images.append(record)
        _push_worst(worst, keep_worst, record["metrics"][rank_by], i, sample.name, alpha)
        advance()
    metrics = scorer.results() if scorer else mean_metrics([r["metrics"] for r in images])
    entry = {
        "kind": dataset.kind, "root": str(dataset.root), "ignore_value": dataset.ignore_value,
        "count": len(images), "rank_by": rank_by, "metrics": metrics,
        "timings": mean_metrics([r["timings"] for r in images]), "images": images,
        WORST_KEY: {name: a for _, _, name, a in sorted(worst, reverse=True)},
    }
    return entry, scorer


def _evaluate_sample(sample: Sample, predict: Predictor, dataset: Dataset,
                     scorer: MaskScorer | None
                     ) -> tuple[dict[str, Any], npt.NDArray[np.float32]]:
    start = time.perf_counter()
    alpha, seconds = predict(sample.image_path)
    wall = time.perf_counter() - start
    if alpha.shape != sample.gt.shape:
        raise ValueError(f"{dataset.name}/{sample.name}: prediction {alpha.shape} "
                         f"!= ground truth {sample.gt.shape}")
    if scorer is not None:
        metrics = scorer.step(alpha, sample.gt, sample.ignore)
    else:
        metrics = matte_errors(alpha, sample.gt, sample.trimap)
    timings = {**{k: float(v) for k, v in seconds.items()}, "predict_wall": wall}
    record = {"name": sample.name, "image": str(sample.image_path), "metrics": metrics,
              "timings": timings}
    return record, alpha


def _push_worst(heap: list[tuple[float, int, str, npt.NDArray[np.uint8]]], keep: int,
                score: float, index: int, name: str, alpha: npt.NDArray[np.float32]) -> None:
    """Keep the ``keep`` highest-error predictions (as uint8) in a min-heap."""
    if keep <= 0:
        return
    item = (score, -index, name, alpha_to_u8(np.asarray(alpha, np.float32)))
    if len(heap) < keep:
        heapq.heappush(heap, item)
    elif score > heap[0][0]:
        heapq.heapreplace(heap, item)


def _overall(sets: Mapping[str, Any], scorers: list[MaskScorer]) -> dict[str, Any]:
    matte_records = [r["metrics"] for s in sets.values() if s["kind"] == "matte"
                     for r in s["images"]]
    # mask metrics pooled over the mask sets; matte metrics over the matte sets ("mae" comes
    # from the mask sets when there are any, since there it is scored against binarised truth)
    metrics = MaskScorer.combine(scorers).results() if scorers else {}
    for name, value in mean_metrics(matte_records).items():
        metrics.setdefault(name, value)
    all_timings = [r["timings"] for s in sets.values() for r in s["images"]]
    return {"count": sum(s["count"] for s in sets.values()), "metrics": metrics,
            "timings": mean_metrics(all_timings)}


class _NoBar:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(enabled: bool) -> Any:
    """A rich progress bar (imported lazily), or a no-op context yielding ``None``."""
    if not enabled:
        return _NoBar()
    from alphacut.interfaces.progress import rich_progress

    return rich_progress()
