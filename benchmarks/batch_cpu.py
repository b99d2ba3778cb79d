"""Where a 1 MP batch image's CPU goes: every stage and refine's sub-steps, one thread.

    python benchmarks/batch_cpu.py [--images 10] [--repeat 3] [--model u2netp] [--ref main]

The batch's 1 MP photos (duts_te, as benchmarks/run.py makes them) run one at a time with
everything on the calling thread (ONNX Runtime on one thread, refine held to one thread), so
``time.thread_time`` of each step is that step's CPU. Medians over the images of the per-image
minimum over ``--repeat`` runs, in CPU milliseconds. With ``--ref``, the refine step of that
git revision (benchmarks/refine.py's ``load_reference``) runs beside this tree's on the same soft
masks, interleaved, and the largest alpha difference is shown. Run under
``flock /work/bench.lock``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def clock(times: dict[str, float], name: str, fn: Callable[..., Any], *args: Any,
          **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, its thread CPU seconds added to ``times[name]``."""
    start = time.thread_time()
    out = fn(*args, **kwargs)
    times[name] = times.get(name, 0.0) + time.thread_time() - start
    return out


def refine_steps(rgb: np.ndarray, soft: Any, times: dict[str, float]) -> np.ndarray:
    """The default preset's refine, as ``matting.refine_band`` and ``stages.refine_matte``
    run it, step by step (``soft``: the mask stage's ``SoftMask``)."""
    from alphacut.core.refine import laplacian as lp
    from alphacut.core.refine import matting as mt
    from alphacut.core.refine.foreground import estimate_foreground
    from alphacut.core.refine.scale import solve_size
    from alphacut.core.refine.tiles import TileMap

    p = mt.MattingParams()
    scale = solve_size(*soft.shape, p.max_side)
    gray = None
    if scale.scaled:
        image, prior, _, gray = clock(times, "r.resize", mt.downsized, rgb, soft, None, scale)
    else:
        image, prior = rgb, soft.full()
    long_side = max(scale.size)
    width_px = max(1, round(p.band * long_side))
    reach = max(width_px + 1, mt.MIN_REACH, round(p.reach * long_side))
    unknown, known = clock(times, "r.trimap", mt.band_trimap, prior, lo=p.lo, hi=p.hi,
                           width=width_px, reach=reach, value=prior)
    times["n_unknown"] = times.get("n_unknown", 0.0) + float(unknown.sum())
    img = clock(times, "r.float", lambda: image.astype(np.float32) * (1.0 / 255.0))
    alpha = known.astype(np.float32, copy=True)
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    if rows.size:
        h, w = prior.shape
        crop = (slice(max(0, rows[0] - 2), min(h, rows[-1] + 3)),
                slice(max(0, cols[0] - 2), min(w, cols[-1] + 3)))
        band = unknown[crop]
        stencil = clock(times, "r.stencil", lp.band_stencil, np.ascontiguousarray(img[crop]),
                        band, p.eps)
        system, rhs, diagonal = clock(times, "r.system", lp.band_system, stencil, band,
                                      alpha[crop], prior[crop], p.lam)
        start = prior[crop][band].astype(np.float32)
        solution, steps = clock(times, "r.pcg", lp.pcg, system, rhs, start, 1.0 / diagonal,
                                p.iters, p.tol)
        times["pcg_steps"] = times.get("pcg_steps", 0.0) + steps
        alpha[crop][band] = np.clip(solution, 0.0, 1.0)
    hint = {}
    if scale.scaled:
        tiles = TileMap.empty(soft.shape, mt.UPSAMPLE_TILE)
        alpha = clock(times, "r.upsample", mt.upsample_matte, alpha, rgb,
                      radius=getattr(scale, "radius", 2), guide=gray, scale=scale,
                      active=tiles.active)
        hint["soft_tiles"] = tiles
    clock(times, "r.foreground", estimate_foreground, rgb, alpha, **hint)
    return alpha


def run_image(engine: Any, path: Path) -> dict[str, float]:
    """Thread-CPU seconds of each stage for one photo (default preset)."""
    from alphacut.engine import stages

    times: dict[str, float] = {}
    decoded = clock(times, "decode", engine.decode, path, {})
    item = clock(times, "prepare", engine.prepare, decoded, {})
    inferred = clock(times, "infer", engine.infer, [item])[0]
    soft = clock(times, "mask", stages.soft_mask, item, inferred, engine.passes,
                 engine.config.refine)
    start = time.thread_time()
    refine_steps(decoded.rgb, soft, times)
    times["refine"] = time.thread_time() - start
    return times


def compare(engine: Any, files: list[Path], ref: str, repeat: int) -> None:
    """Refine CPU (matting + decontamination, one thread) of ``ref`` vs this tree."""
    import tempfile

    from alphacut.core.refine import foreground, matting
    from alphacut.engine import stages
    from refine import load_reference

    with tempfile.TemporaryDirectory() as tmp:
        trees = {"ref": load_reference(ref, Path(tmp)),
                 "new": {"matting": matting, "foreground": foreground}}
        cpu: dict[str, list[float]] = {"ref": [], "new": []}
        if "tiles" in trees["ref"]:  # the reference's refine on one thread too
            trees["ref"]["tiles"].THREADS = 1
        worst = 0.0
        for path in files:
            decoded = engine.decode(path)
            item = engine.prepare(decoded)
            soft = stages.soft_mask(item, engine.infer([item])[0], engine.passes,
                                    engine.config.refine).full()
            best: dict[str, float] = {}
            alphas = {}
            for _ in range(repeat):
                for name, tree in trees.items():
                    start = time.thread_time()
                    alphas[name] = tree["matting"].refine_band(decoded.rgb, soft)
                    tree["foreground"].estimate_foreground(decoded.rgb, alphas[name])
                    spent = time.thread_time() - start
                    best[name] = min(best.get(name, spent), spent)
            for name in trees:
                cpu[name].append(best[name])
            worst = max(worst, float(np.abs(alphas["new"] - alphas["ref"]).max()))
    old, new = statistics.mean(cpu["ref"]), statistics.mean(cpu["new"])
    print(f"refine CPU ms/img (mean of per-image min): {ref} {old * 1000:.1f}  this tree "
          f"{new * 1000:.1f}  ({old / new:.2f}x); max |d alpha| {worst:.2e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--ref", default=None, help="git revision to compare refine with")
    parser.add_argument("--evaldata", type=Path, default=ROOT.parent / "shared" / "evaldata")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from bench_setup import make_photo

    from alphacut.api import Remover
    from alphacut.core.refine.tiles import limited_threads

    sources = sorted((args.evaldata / "duts_te" / "images").glob("*.jpg"))[: args.images]
    files = [make_photo(p, args.work / "images" / "batch" / f"{p.stem}.jpg", 1.0)
             for p in sources]
    engine = Remover(model=args.model, threads=1)
    engine.load()
    per_image: list[dict[str, float]] = []
    if args.ref:
        with limited_threads(1):
            compare(engine, files, args.ref, args.repeat)
    with limited_threads(1):
        run_image(engine, files[0])  # warm-up
        for path in files:
            runs = [run_image(engine, path) for _ in range(args.repeat)]
            per_image.append({k: min(r[k] for r in runs) for k in runs[0]})
    keys = list(per_image[0])
    for key in keys:
        values = [t[key] for t in per_image]
        unit = 1.0 if key in ("n_unknown", "pcg_steps") else 1000.0
        print(f"{key:14s} median {statistics.median(values) * unit:9.1f}  "
              f"mean {statistics.mean(values) * unit:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
