"""alphacut vs rembg, end to end (files on disk to files on disk), same images, same weights.

    python benchmarks/run.py            # full run (about 15-25 min on 2 cores)
    python benchmarks/run.py --quick    # short run (a few minutes)
    alphacut bench -- [--quick] ...     # the same, from a source checkout

rembg runs in its own virtual environment (``benchmarks/.venv-rembg``, created on first use
with ``pip install "rembg[cpu,cli]==<pinned>"``) with ``U2NET_HOME`` pointing at a folder
holding links to alphacut's own verified u2net/u2netp files, so both tools run the very same
weights and rembg never downloads anything. Images are made from real photos in
``../shared/evaldata`` (upscaled with Lanczos to 1, 12 and 24 MP) in the work folder
(``benchmarks/.work``, not committed).

Every case runs in a fresh process (its peak RSS is read with ``os.wait4``); times are the
median of ``--repeat`` runs after one warm-up, both tools measured in the same run (the
one-photo CLI cases in turn, round by round), so the ratios are fair even when the machine is
busy. Prints Markdown tables; writes a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import report
from bench_setup import (
    HERE,
    REMBG_SPEC,
    cli_runs,
    evaldata_dir,
    interleaved_cli_runs,
    landscape_photos,
    make_photo,
    model_home,
    rembg_env,
    worker,
)

SIZES_MP = {"1mp": 1.0, "12mp": 12.0, "24mp": 24.0}


# ---------------------------------------------------------------- set-up


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="alphacut bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short run: u2netp, 1 and 12 MP, batch of 10, 20 IoU images")
    p.add_argument("-m", "--models", default=None, help="comma list (default u2netp,u2net)")
    p.add_argument("--sizes", default=None, help="comma list of 1mp,12mp,24mp")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per case (3)")
    p.add_argument("--batch", type=int, default=None, help="images in the batch case (50)")
    p.add_argument("--limit", type=int, default=None, help="ecssd images for IoU (all 125)")
    p.add_argument("--skip", default="", help="comma list of parts to skip: "
                   "library,batch,cli,iou")
    p.add_argument("--grain", type=float, default=0.0,
                   help="sensor-like noise sigma added to the single photos (default 0)")
    p.add_argument("--evaldata", type=Path, default=None,
                   help="evaluation data (default ../shared/evaldata or ALPHACUT_EVALDATA)")
    p.add_argument("--work", type=Path, default=HERE / ".work", help="work folder")
    p.add_argument("--rembg-venv", type=Path, default=HERE / ".venv-rembg")
    p.add_argument("--json", type=Path, default=None, help="JSON output (work/results.json)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `alphacut bench -- --quick`: argparse keeps the separator
        argv = argv[1:]
    args = p.parse_args(argv)
    quick = args.quick
    args.models = (args.models or ("u2netp" if quick else "u2netp,u2net")).split(",")
    args.sizes = (args.sizes or ("1mp,12mp" if quick else "1mp,12mp,24mp")).split(",")
    args.repeat = args.repeat or (2 if quick else 3)
    args.batch = args.batch or (10 if quick else 50)
    args.limit = args.limit or (20 if quick else None)
    args.skip = {s for s in args.skip.split(",") if s}
    args.json = args.json or args.work / "results.json"
    return args


def part_library(args: argparse.Namespace, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for model in args.models:
        for size in args.sizes:
            image = ctx["photos"][size]
            out = args.work / "out"
            ac = worker(sys.executable, "ac_worker.py", {
                "mode": "library", "model": model, "image": str(image),
                "out": str(out / f"ac-{model}-{size}.png"), "repeat": args.repeat,
                "presets": ["default", "fast"]}, ctx["ac_env"])
            rb = worker(ctx["rembg_python"], "rembg_worker.py", {
                "mode": "library", "model": model, "image": str(image),
                "out": str(out / f"rembg-{model}-{size}.png"), "repeat": args.repeat},
                ctx["rembg_env"])
            infer = ac["infer_median"]
            row: dict[str, Any] = {"model": model, "size": size, "infer": infer,
                                   "rembg": rb["wall_median"], "rembg_infer": rb["infer_median"],
                                   "rss_ac_mb": ac["rss_mb"], "rss_rembg_mb": rb["rss_mb"]}
            for preset, res in ac["presets"].items():
                wall = statistics.median(res["wall"])
                row[preset] = {"wall": wall, "speedup": rb["wall_median"] / wall,
                               "overhead": (wall - infer) / infer, "stages": res["stages"]}
            rows.append(row)
            print(f"  library {model} {size}: alphacut {row['default']['wall']:.3f}s "
                  f"(fast {row['fast']['wall']:.3f}s) rembg {rb['wall_median']:.3f}s",
                  file=sys.stderr)
    return rows


def part_batch(args: argparse.Namespace, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    images = [str(p) for p in ctx["batch"]]
    in_dir = args.work / "images" / "batch"
    for model in args.models:
        out = args.work / "out" / f"batch-{model}"
        ac = worker(sys.executable, "ac_worker.py", {
            "mode": "batch", "model": model, "images": images, "out_dir": str(out / "ac"),
            "repeat": args.repeat}, ctx["ac_env"])
        ac_fast = worker(sys.executable, "ac_worker.py", {
            "mode": "batch", "model": model, "images": images, "out_dir": str(out / "ac-fast"),
            "repeat": args.repeat, "preset": "fast"}, ctx["ac_env"])
        rb = worker(ctx["rembg_python"], "rembg_worker.py", {
            "mode": "batch", "model": model, "images": images, "out_dir": str(out / "rembg"),
            "repeat": args.repeat}, ctx["rembg_env"])
        ac_cli = cli_runs([str(ctx["alphacut_exe"]), "remove", str(in_dir), "-o",
                           str(out / "ac-cli"), "-m", model, "-q"],
                          ctx["ac_env"], args.repeat, clean=out / "ac-cli")
        ac_cli_fast = cli_runs([str(ctx["alphacut_exe"]), "remove", str(in_dir), "-o",
                                str(out / "ac-cli-fast"), "-m", model, "-q", "--preset", "fast"],
                               ctx["ac_env"], args.repeat, clean=out / "ac-cli-fast")
        rb_cli = cli_runs([str(ctx["rembg_exe"]), "p", "-m", model, str(in_dir),
                           str(out / "rembg-cli")], ctx["rembg_env"], args.repeat,
                          clean=out / "rembg-cli")
        written = {len(list((out / d).glob("*.png"))) for d in ("ac-cli", "rembg-cli")}
        if written != {len(images)}:
            raise RuntimeError(f"batch CLI wrote {written} files for {len(images)} images")
        n = len(images)
        infer = statistics.median(ac["infer"] + ac_fast["infer"])
        row = {"model": model, "n": n, "infer": infer, "ceiling": 1.0 / infer,
               "ac": n / ac["wall_median"], "rembg": n / rb["wall_median"],
               "ac_fast": n / ac_fast["wall_median"],
               "ac_cli": n / ac_cli["wall_median"], "rembg_cli": n / rb_cli["wall_median"],
               "ac_cli_fast": n / ac_cli_fast["wall_median"],
               "stage_sums": ac["stage_sums"], "rss_ac_mb": ac["rss_mb"],
               "rss_rembg_mb": rb["rss_mb"]}
        row["fraction"] = row["ac"] / row["ceiling"]
        row["fraction_fast"] = row["ac_fast"] / row["ceiling"]
        rows.append(row)
        print(f"  batch {model}: alphacut {row['ac']:.2f}/s rembg {row['rembg']:.2f}/s "
              f"ceiling {row['ceiling']:.2f}/s", file=sys.stderr)
    return rows


def part_cli(args: argparse.Namespace, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for model in args.models:
        for size in args.sizes:
            image = ctx["photos"][size]
            out = args.work / "out"
            runs = interleaved_cli_runs({
                "ac": ([str(ctx["alphacut_exe"]), "remove", str(image), "-o",
                        str(out / f"cli-ac-{model}-{size}.png"), "-m", model, "-q",
                        "--overwrite"], ctx["ac_env"], None),
                "ac_fast": ([str(ctx["alphacut_exe"]), "remove", str(image), "-o",
                             str(out / f"cli-ac-fast-{model}-{size}.png"), "-m", model, "-q",
                             "--overwrite", "--preset", "fast"], ctx["ac_env"], None),
                "rembg": ([str(ctx["rembg_exe"]), "i", "-m", model, str(image),
                           str(out / f"cli-rembg-{model}-{size}.png")], ctx["rembg_env"],
                          None)}, args.repeat)
            ac, ac_fast, rb = runs["ac"], runs["ac_fast"], runs["rembg"]
            rows.append({"model": model, "size": size, "ac": ac["wall_median"],
                         "rembg": rb["wall_median"], "ac_fast": ac_fast["wall_median"],
                         "speedup": rb["wall_median"] / ac["wall_median"],
                         "speedup_fast": rb["wall_median"] / ac_fast["wall_median"],
                         "rss_ac_mb": ac["rss_mb"], "rss_rembg_mb": rb["rss_mb"]})
            print(f"  cli {model} {size}: alphacut {ac['wall_median']:.2f}s "
                  f"rembg {rb['wall_median']:.2f}s", file=sys.stderr)
    return rows


def part_iou(args: argparse.Namespace, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    import numpy as np
    from PIL import Image

    from alphacut.eval.metrics import iou, mae

    ecssd = ctx["evaldata"] / "ecssd"
    images = sorted(p for p in (ecssd / "images").iterdir() if p.suffix in (".jpg", ".png"))
    images = images[: args.limit] if args.limit else images
    names = [str(p) for p in images]
    rows = []
    for model in args.models:
        base = args.work / "masks" / model
        worker(sys.executable, "ac_worker.py", {"mode": "masks", "model": model,
                                                "images": names, "out_dir": str(base / "ac")},
               ctx["ac_env"])
        worker(ctx["rembg_python"], "rembg_worker.py", {"mode": "masks", "model": model,
               "images": names, "out_dir": str(base / "rembg")}, ctx["rembg_env"])
        row: dict[str, Any] = {"model": model, "n": len(images)}
        for tool in ("ac", "rembg"):
            ious, maes = [], []
            for path in images:
                gt = np.asarray(Image.open(ecssd / "masks" / f"{path.stem}.png").convert("L"))
                pred = np.asarray(Image.open(base / tool / f"{path.stem}.png").convert("L"))
                pred = pred.astype(np.float32) / 255.0
                ious.append(iou(pred, gt))
                maes.append(mae(pred, gt))
            row[f"iou_{tool}"] = float(np.mean(ious))
            row[f"mae_{tool}"] = float(np.mean(maes))
        rows.append(row)
        print(f"  iou {model}: alphacut {row['iou_ac']:.4f} rembg {row['iou_rembg']:.4f}",
              file=sys.stderr)
    return rows


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    evaldata = evaldata_dir(args.evaldata)
    rembg_python = rembg_env(args.rembg_venv)
    home = model_home(args.work, args.models)
    # Both sides get a bytecode cache: with PYTHONDONTWRITEBYTECODE (set on some machines) an
    # editable alphacut recompiles ~90 modules per CLI run (0.15 s) while rembg's venv has .pyc.
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("OMP_NUM_THREADS", "PYTHONDONTWRITEBYTECODE")}
    base_env["PYTHONPYCACHEPREFIX"] = str(args.work / "pycache")
    ac_env = {**base_env, "ALPHACUT_OFFLINE": "1"}
    rembg_env_vars = {**base_env, "U2NET_HOME": str(home)}
    photo = landscape_photos(evaldata / "ecssd" / "images")[0]
    tag = f"-grain{args.grain:g}" if args.grain else ""
    photos = {size: make_photo(photo, args.work / "images" / f"{size}{tag}.jpg", SIZES_MP[size],
                               args.grain) for size in args.sizes}
    batch_sources = sorted((evaldata / "duts_te" / "images").glob("*.jpg"))[: args.batch]
    batch = [make_photo(p, args.work / "images" / "batch" / f"{p.stem}.jpg", 1.0)
             for p in batch_sources]
    stale = {p.name for p in (args.work / "images" / "batch").glob("*.jpg")} - {
        p.name for p in batch}
    for name in stale:  # a previous run's larger batch
        (args.work / "images" / "batch" / name).unlink()
    ctx = {"evaldata": evaldata, "rembg_python": rembg_python, "ac_env": ac_env,
           "rembg_env": rembg_env_vars, "photos": photos, "batch": batch,
           "alphacut_exe": Path(sys.executable).with_name("alphacut"),
           "rembg_exe": args.rembg_venv / "bin" / "rembg"}
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "repeat": args.repeat, "models": args.models, "photo": str(photo),
        "rembg": REMBG_SPEC, "grain": args.grain,
        "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    parts = {"library": part_library, "batch": part_batch, "cli": part_cli, "iou": part_iou}
    for name, part in parts.items():
        if name in args.skip:
            continue
        print(f"benchmark: {name}", file=sys.stderr)
        results[name] = part(args, ctx)
    text = report(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str))
    print(text)
    print(f"(JSON: {args.json})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
