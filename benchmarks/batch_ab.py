"""The 1 MP batch's throughput against the model's own rate, two or more variants side by side.

    python benchmarks/batch_ab.py [--images 10] [--rounds 3] [--preset default,fast]
        [--variant NAME=SRC[:KEY=VALUE,...]] ...

Each variant is a source tree (``SRC``, the ``src`` folder put on ``PYTHONPATH``; ``.`` for
this tree) plus environment settings. Every round runs each variant's batch once in a fresh
process (benchmarks/ac_worker.py ``batch`` mode: the pipelined batch the CLI runs), variants
interleaved (ABAB), so a drifting load hits them alike. Per variant and preset: median
images/s, its share of ``1 / inference`` (the model alone, one image at a time on every core,
sampled in the same process), and the whole process's user and system CPU and minor page
faults per image. Run under ``flock /work/bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def parse_variant(text: str) -> tuple[str, Path, dict[str, str]]:
    """``NAME=SRC[:KEY=VALUE,...]`` -> (name, src folder, environment)."""
    name, _, rest = text.partition("=")
    src, _, settings = rest.partition(":")
    folder = (ROOT / "src") if src in ("", ".") else Path(src).resolve()
    env = dict(item.split("=", 1) for item in settings.split(",") if item)
    return name, folder, env


def run_batch(src: Path, env: dict[str, str], images: list[str], preset: str,
              out_dir: Path) -> dict[str, Any]:
    """One fresh-process batch: ac_worker's JSON result."""
    task = {"mode": "batch", "model": "u2netp", "images": images, "out_dir": str(out_dir),
            "repeat": 1, "preset": preset}
    full = {**os.environ, "PYTHONPATH": str(src), "ALPHACUT_OFFLINE": "1", **env}
    full.pop("OMP_NUM_THREADS", None)
    done = subprocess.run([sys.executable, str(HERE / "ac_worker.py"), json.dumps(task)],
                          env=full, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preset", default="default,fast")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--evaldata", type=Path, default=ROOT.parent / "shared" / "evaldata")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from bench_setup import make_photo

    sources = sorted((args.evaldata / "duts_te" / "images").glob("*.jpg"))[: args.images]
    images = [str(make_photo(p, args.work / "images" / "batch" / f"{p.stem}.jpg", 1.0))
              for p in sources]
    variants = [parse_variant(v) for v in (args.variant or ["this=."])]
    presets = args.preset.split(",")
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(args.rounds):
        for preset in presets:
            for name, src, env in variants:
                out = args.work / "out" / f"ab-{name}-{preset}"
                res = run_batch(src, env, images, preset, out)
                results.setdefault((name, preset), []).append(res)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}; {args.images} images x {args.rounds} rounds")
    print("| variant | preset | img/s | 1/inference | share | user ms/img | sys ms/img "
          "| minflt/img |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, preset), runs in results.items():
        rate = statistics.median(len(images) / r["wall_median"] for r in runs)
        ceiling = 1.0 / statistics.median(x for r in runs for x in r["infer"])
        user = statistics.median(r["process"]["user"] for r in runs) * 1000
        system = statistics.median(r["process"]["sys"] for r in runs) * 1000
        faults = statistics.median(r["process"]["minflt"] for r in runs)
        print(f"| {name} | {preset} | {rate:.2f} | {ceiling:.2f} | {rate / ceiling:.0%} | "
              f"{user:.0f} | {system:.0f} | {faults:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
