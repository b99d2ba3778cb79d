"""``alphacut eval``: score models and refinement settings against ground truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from alphacut.errors import InvalidOption


def configs_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """One labelled option set per (model, preset) pair asked for; the models' raw masks
    (plain bilinear resize) are added as a baseline when ``--raw`` is given."""
    from alphacut.interfaces.cli_options import config_options
    from alphacut.models.registry import DEFAULT_MODEL

    models = args.model or [DEFAULT_MODEL]
    presets = args.preset or [None]
    configs: dict[str, dict[str, Any]] = {}
    for model in models:
        if args.raw:
            configs[f"{model} raw"] = {"model": model, "preset": "fast", "output": "mask"}
        for preset in presets:
            options: dict[str, Any] = {"model": model, "preset": preset,
                                       **config_options(args, groups=("refine",))}
            label = " ".join(str(v) for v in (model, preset) if v) or model
            configs[label] = {k: v for k, v in options.items() if v is not None}
    return configs


def run(args: argparse.Namespace) -> int:
    try:
        from alphacut.eval.suite import run_eval
    except ImportError as exc:
        raise InvalidOption(f"alphacut eval needs: pip install 'alphacut[eval]' ({exc})") from exc
    missing = [d for d in args.datasets if not Path(d).is_dir()]
    if missing:
        raise InvalidOption(f"not a dataset folder: {', '.join(missing)}")
    out = Path(args.output)
    results = run_eval(args.datasets, out, configs_from_args(args), limit=args.limit)
    from alphacut.eval.report import compare_table

    print(compare_table(results))
    print(f"report: {out / 'report.md'}", file=sys.stderr)
    return 0
