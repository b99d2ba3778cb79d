"""The command line both benchmark workers share (ac_worker.py here, rembg_worker.py in the
rembg venv; it imports nothing but the standard library)."""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

Mode = Callable[[dict[str, Any]], dict[str, Any]]


def serve(modes: dict[str, Mode]) -> None:
    """Run the mode the JSON task in ``sys.argv[1]`` names; print its result as one JSON line,
    with ``wall_median`` / ``infer_median`` added where the lists are there."""
    task = json.loads(sys.argv[1])
    result = modes[task["mode"]](task)
    for key in ("wall", "infer"):
        if key in result:
            result[f"{key}_median"] = statistics.median(result[key])
    print(json.dumps(result))
