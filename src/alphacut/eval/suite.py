"""Several configurations over the same sets, and their comparison report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from alphacut.eval.harness import evaluate, make_predictor
from alphacut.eval.report import write_report


def run_eval(dataset_dirs: Iterable[str | Path], out_dir: str | Path,
             configs: Mapping[str, Mapping[str, Any]], limit: int | None = None, *,
             progress: bool = True, gallery_size: int = 8) -> list[dict[str, Any]]:
    """Evaluate several configs (label → flat options for ``make_predictor``) and write the
    comparison report (``report.md``, ``results.json``, galleries) into ``out_dir``."""
    dirs = [Path(d) for d in dataset_dirs]
    results = []
    for label, options in configs.items():
        predict = make_predictor(**options)
        result = evaluate(dirs, predict=predict, config_label=label, limit=limit,
                          progress=progress, keep_worst=gallery_size)
        result["options"] = dict(options)
        results.append(result)
    write_report(results, out_dir)
    return results
