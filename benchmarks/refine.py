"""The default preset's refine step (band matting + decontamination): this tree vs a reference.

    python benchmarks/refine.py [--models u2netp,u2net] [--repeat 5] [--ref main]
                                [--quality] [--limit 40] [--json PATH]
                                [--batch 12 [--skip-speed]]

The reference implementation is read from git (``git show REF:src/alphacut/core/refine/...``)
and imported from a temporary folder, so both run in one process on the same arrays.

- Speed: two real photos upscaled to 12 MP with Lanczos (the ecssd photo benchmarks/run.py
  uses, and alphamatting GT04, fur), each model's real soft mask (bilinear, as the default
  preset), and the refine step timed old/new interleaved (ABAB), wall and CPU time
  (``time.process_time``: all threads), medians; the model's inference (wall, CPU) beside it.
- Agreement: max and mean |alpha_new - alpha_old| and |fg_new - fg_old| on those photos.
- ``--quality``: every alphamatting photo and the first ``--limit`` ecssd photos at their own
  size (or, with ``--quality-megapixels 1``, upscaled to 1 MP with their truth, Lanczos and
  bilinear: the size where a batch photo's solve runs at half size), u2netp's soft mask,
  old and new alpha, SAD / gradient (alphamatting) and MAE / IoU
  (ecssd) of both, and the largest per-image alpha difference.
- ``--batch N``: N 1 MP photos through the CLI's batch pipeline (``run_pipeline``, u2netp,
  the CLI's worker/thread choice; refine held to ``cores // workers`` threads, as shipped):
  the default preset and ``fast`` (no refine: the model's limit), interleaved; wall and CPU s
  per image.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# refine modules, in import order (matting imports strokes and foreground)
MODULES = ("kernels", "tiles", "scale", "sparse", "laplacian", "strokes", "foreground", "matting")


def load_reference(ref: str, folder: Path) -> dict[str, ModuleType]:
    """The refine modules as of git ``ref``, imported under private names."""
    loaded: dict[str, ModuleType] = {}
    for name in MODULES:
        path = f"src/alphacut/core/refine/{name}.py"
        show = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
                              capture_output=True, text=True)
        if show.returncode != 0:
            continue  # a helper module the reference does not have
        source = show.stdout
        for other in MODULES:  # the reference's own modules; the rest (strokes) are shared
            source = source.replace(f"alphacut.core.refine.{other}", f"_ref_refine_{other}")
            source = source.replace(f"from alphacut.core.refine import {other}\n",
                                    f"import _ref_refine_{other} as {other}\n")
        file = folder / f"_ref_refine_{name}.py"
        file.write_text(source)
        spec = importlib.util.spec_from_file_location(f"_ref_refine_{name}", file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        loaded[name] = module
    if "kernels" in loaded:
        build_reference_kernels(ref, folder, loaded["kernels"])
    return loaded


def build_reference_kernels(ref: str, folder: Path, module: ModuleType) -> None:
    """The reference's own compiled kernels: its C files built into ``folder`` (setup.py's
    flags) and loaded by its ``kernels`` module, so that old and new kernels are compared
    (both trees would otherwise find this install's build, which a reference of another
    interface version ignores: it would run its numpy path). Without a compiler the
    reference runs its numpy path, and a line says so."""
    import ctypes
    import shutil
    from functools import lru_cache

    listing = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", ref,
                              "src/alphacut/core/refine/"], capture_output=True, text=True)
    sources = [Path(p) for p in listing.stdout.split() if p.endswith((".c", ".h"))]
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not sources or compiler is None:
        print(f"reference {ref}: no compiled kernels (numpy path)", file=sys.stderr)
        return
    for path in sources:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
                               capture_output=True, text=True, check=True)
        (folder / path.name).write_text(shown.stdout)
    built = folder / "_ref_kernels.so"
    include = sysconfig.get_paths()["include"]
    subprocess.run([compiler, "-shared", "-fPIC", "-O3", "-ffp-contract=off",
                    "-fno-trapping-math", "-fvisibility=hidden", "-pthread", f"-I{include}",
                    *[str(folder / p.name) for p in sources if p.suffix == ".c"],
                    "-o", str(built), "-lm"], check=True)

    @lru_cache(maxsize=1)
    def library() -> ctypes.CDLL | None:
        if os.environ.get("ALPHACUT_KERNELS", "1") == "0":
            return None
        lib = ctypes.CDLL(str(built))
        for name, (argtypes, restype) in module._SIGNATURES.items():
            function = getattr(lib, name)
            function.argtypes = argtypes
            function.restype = restype
        return lib

    module.library = library


def photos(evaldata: Path, work: Path, megapixels: float = 12.0) -> dict[str, Path]:
    """The two test photos of ``megapixels`` (made once, like benchmarks/run.py's)."""
    sys.path.insert(0, str(HERE))
    from run import landscape_photos, make_photo

    sources = {"ecssd": landscape_photos(evaldata / "ecssd" / "images")[0],
               "hair": evaldata / "alphamatting_train_lowres" / "images" / "GT04.png"}
    return {name: make_photo(src, work / f"{megapixels:g}mp-{name}.jpg", megapixels)
            for name, src in sources.items()}


def model_session(model: str) -> Any:
    """The ONNX session of ``model``, as the engine loads it."""
    from alphacut.api import Remover

    remover = Remover(model=model)
    return remover.pool.get(remover.spec)


def soft_mask(session: Any, rgb: np.ndarray) -> np.ndarray:
    """The default preset's soft mask ``float32 (H, W)`` (the model's, resized bilinearly)."""
    from alphacut.core import mask, preprocess
    from alphacut.core.infer import predict

    tensor = preprocess.to_tensor(rgb, session.spec)
    small = predict(session, tensor)[0]
    return mask.to_full_resolution(small, rgb, method="bilinear")


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def infer_times(session: Any, rgb: np.ndarray, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of the model's inference on ``rgb``."""
    from alphacut.core import preprocess
    from alphacut.core.infer import predict

    tensor = preprocess.to_tensor(rgb, session.spec)
    predict(session, tensor)
    runs = [timed(lambda: predict(session, tensor))[1:] for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def refine(modules: dict[str, ModuleType], rgb: np.ndarray, soft: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Band matting then decontamination, as the default preset runs them (a tree with
    ``refine_band_matte`` hands the decontamination the matte's soft tiles, and one with
    ``tiles.in_background`` starts the colours' output copy before the matting, as
    ``stages.refine_matte`` does)."""
    matting = modules["matting"]
    hint: dict[str, Any] = {}
    background = getattr(modules["tiles"], "in_background", None)
    if hasattr(matting, "refine_band_matte"):
        def matte() -> Any:
            if background is not None:
                hint["copy"] = background(rgb.copy)
            return matting.refine_band_matte(rgb, soft, matting.MattingParams())

        (alpha, tiles), mw, mc = timed(matte)
        hint["soft_tiles"] = tiles
    else:
        alpha, mw, mc = timed(lambda: matting.refine_band(rgb, soft, matting.MattingParams()))
    fg, fw, fc = timed(lambda: modules["foreground"].estimate_foreground(rgb, alpha, **hint))
    return alpha, fg, {"matting_wall": mw, "matting_cpu": mc, "fg_wall": fw, "fg_cpu": fc,
                       "wall": mw + fw, "cpu": mc + fc}


def speed(args: argparse.Namespace, old: dict[str, ModuleType], new: dict[str, ModuleType]
          ) -> list[dict[str, Any]]:
    from alphacut.eval.datasets import read_rgb

    rows = []
    images = {name: read_rgb(path)
              for name, path in photos(args.evaldata, args.work, args.megapixels).items()}
    for model in args.models:
        session = model_session(model)
        for name, rgb in images.items():
            soft = soft_mask(session, rgb)
            infer_wall, infer_cpu = infer_times(session, rgb, args.repeat)
            runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
            with held_to(args.threads):
                refine(new, rgb, soft)  # warm-up (first-call allocations, imports)
                for _ in range(args.repeat):
                    a_old, f_old, t_old = refine(old, rgb, soft)
                    a_new, f_new, t_new = refine(new, rgb, soft)
                    runs["old"].append(t_old)
                    runs["new"].append(t_new)
            med = {side: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                   for side, rs in runs.items()}
            fg_diff = np.abs(f_new.astype(np.int16) - f_old.astype(np.int16))
            # what a cut-out shows: alpha-weighted colour (a flip at the soft band's 0.004 /
            # 0.996 threshold changes a colour a lot but its weighted value little)
            shown = np.abs(a_new[..., None] * f_new - a_old[..., None] * f_old.astype(np.float32))
            row = {"model": model, "photo": name, "size": list(rgb.shape[:2]),
                   "infer_wall": infer_wall, "infer_cpu": infer_cpu, **{
                       f"{side}_{k}": v for side, m in med.items() for k, v in m.items()},
                   "alpha_max_diff": float(np.abs(a_new - a_old).max()),
                   "alpha_mean_diff": float(np.abs(a_new - a_old).mean()),
                   "fg_max_diff": int(fg_diff.max()), "fg_changed": float((fg_diff > 0).mean()),
                   "shown_max_diff": float(shown.max())}
            rows.append(row)
            print(f"  {model} {name}: refine old {row['old_wall']:.3f}s (cpu "
                  f"{row['old_cpu']:.3f}) new {row['new_wall']:.3f}s (cpu {row['new_cpu']:.3f})"
                  f"; infer {infer_wall:.3f}s", file=sys.stderr)
    return rows


def held_to(threads: int) -> Any:
    """Refine held to ``threads`` threads (both trees: their tiles modules are separate, so
    the reference's cap is set too), or a no-op for 0."""
    import contextlib

    from alphacut.core.refine.tiles import limited_threads

    if threads <= 0:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(limited_threads(threads))
    reference = sys.modules.get("_ref_refine_tiles")
    if reference is not None:
        stack.enter_context(reference.limited_threads(threads))
    return stack


def quality(args: argparse.Namespace, old: dict[str, ModuleType], new: dict[str, ModuleType]
            ) -> dict[str, Any]:
    """Old vs new alpha on real photos with u2netp's real soft masks, with metric deltas."""
    from alphacut.eval import metrics
    from alphacut.eval.datasets import discover, read_rgb

    session = model_session("u2netp")
    sets = {"alphamatting": discover(args.evaldata / "alphamatting_train_lowres").samples(),
            "ecssd": discover(args.evaldata / "ecssd").samples(limit=args.limit)}
    out: dict[str, Any] = {}
    for set_name, samples in sets.items():
        scores: dict[str, list[float]] = {}
        worst = 0.0
        means = []
        for sample in samples:
            rgb, gt, ignore = read_rgb(sample.image_path), sample.gt, sample.ignore
            if args.quality_megapixels:
                rgb, gt, ignore = enlarged(rgb, gt, ignore, args.quality_megapixels)
            soft = soft_mask(session, rgb)
            alphas = {side: modules["matting"].refine_band(rgb, soft)
                      for side, modules in (("old", old), ("new", new))}
            diff = np.abs(alphas["new"] - alphas["old"])
            worst = max(worst, float(diff.max()))
            means.append(float(diff.mean()))
            for side, alpha in alphas.items():
                if set_name == "alphamatting":
                    values = {"sad": metrics.sad(alpha, gt),
                              "grad": metrics.gradient_error(alpha, gt)}
                else:
                    values = {"mae": metrics.mae(alpha, gt, ignore),
                              "iou": metrics.iou(alpha, gt, ignore)}
                for key, value in values.items():
                    scores.setdefault(f"{side}_{key}", []).append(value)
        out[set_name] = {"images": len(means), "alpha_max_diff": worst,
                         "alpha_mean_diff": float(np.mean(means)),
                         **{k: float(np.mean(v)) for k, v in scores.items()}}
        print(f"  quality {set_name}: {out[set_name]}", file=sys.stderr)
    return out


def enlarged(rgb: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None, megapixels: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A photo ``uint8 (H, W, 3)`` upscaled to about ``megapixels`` (Lanczos), its truth
    ``uint8 (H, W)`` alike (bilinear) and its ignore map ``bool`` (nearest)."""
    import cv2

    h, w = gt.shape
    factor = (megapixels * 1e6 / (h * w)) ** 0.5
    size = (round(w * factor), round(h * factor))
    big = cv2.resize(rgb, size, interpolation=cv2.INTER_LANCZOS4)
    truth = cv2.resize(gt, size, interpolation=cv2.INTER_LINEAR)
    if ignore is not None:
        ignore = cv2.resize(ignore.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return big, truth, ignore


def batch(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Images/s of the batch pipeline, default preset (refine held to ``cores // workers``
    threads by the pipeline itself) and the fast preset (no refine), interleaved."""
    import functools

    from alphacut.api import Remover
    from alphacut.interfaces import batch as pipeline
    from alphacut.interfaces.jobs import Job

    sys.path.insert(0, str(HERE))
    from bench_setup import landscape_photos, make_photo

    sources = landscape_photos(args.evaldata / "ecssd" / "images")[:args.batch]
    files = [make_photo(src, args.work / f"1mp-{i}.jpg", 1.0) for i, src in enumerate(sources)]
    workers, threads = pipeline.choose_workers(len(files))
    out = Path(tempfile.mkdtemp())
    removers = {preset: Remover(model="u2netp", preset=preset, threads=threads)
                for preset in ("balanced", "fast")}
    arms = {"default (as shipped)": "balanced", "fast (no refine)": "fast"}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in arms}
    for _ in range(args.repeat):
        for name, preset in arms.items():
            steps = pipeline.engine_steps(removers[preset], lambda job: out / job.source.name)
            jobs = [Job(source=path, rel=Path(path.name)) for path in files]
            _, wall, cpu = timed(functools.partial(pipeline.run_pipeline, jobs, steps,
                                                    workers=workers))
            times[name].append((wall / len(files), cpu / len(files)))
    rows = [{"arm": name, "wall_per_image": statistics.median(t[0] for t in runs),
             "cpu_per_image": statistics.median(t[1] for t in runs)}
            for name, runs in times.items()]
    for row in rows:
        print(f"  batch {row['arm']}: {row['wall_per_image']:.3f} s/img wall, "
              f"{row['cpu_per_image']:.3f} s/img CPU", file=sys.stderr)
    return rows


def report(rows: list[dict[str, Any]], qual: dict[str, Any] | None) -> str:
    lines = ["| model | photo | refine old wall / CPU s | refine new wall / CPU s | speed-up "
             "wall / CPU | matting new | decontam. new | infer wall | new / infer | "
             "max abs d alpha | max d fg (levels) | fg changed | max d alpha*fg (levels) |",
             "|---" * 13 + "|"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['photo']} | {r['old_wall']:.3f} / {r['old_cpu']:.3f} | "
            f"{r['new_wall']:.3f} / {r['new_cpu']:.3f} | {r['old_wall'] / r['new_wall']:.2f}x"
            f" / {r['old_cpu'] / r['new_cpu']:.2f}x | {r['new_matting_wall']:.3f} | "
            f"{r['new_fg_wall']:.3f} | {r['infer_wall']:.3f} | "
            f"{r['new_wall'] / r['infer_wall']:.2f} (old {r['old_wall'] / r['infer_wall']:.2f})"
            f" | {r['alpha_max_diff']:.1e} | {r['fg_max_diff']} | {r['fg_changed']:.1e} | "
            f"{r['shown_max_diff']:.2f} |")
    if qual:
        lines += ["", "| set | images | metric old | metric new | max abs d alpha |",
                  "|---|---|---|---|---|"]
        for name, q in qual.items():
            keys = ("sad", "grad") if name == "alphamatting" else ("mae", "iou")
            cells = " / ".join(f"{k} {q['old_' + k]:.4f}" for k in keys)
            cells_new = " / ".join(f"{k} {q['new_' + k]:.4f}" for k in keys)
            lines.append(f"| {name} | {q['images']} | {cells} | {cells_new} | "
                         f"{q['alpha_max_diff']:.1e} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="u2netp,u2net")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ref", default="main", help="git revision of the reference")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--batch", type=int, default=0, help="1 MP photos for the batch test")
    parser.add_argument("--megapixels", type=float, default=12.0,
                        help="size of the two speed photos (1: a batch photo)")
    parser.add_argument("--threads", type=int, default=0,
                        help="hold refine to this many threads (1: as on a batch's finisher)")
    parser.add_argument("--limit", type=int, default=40, help="ecssd photos for --quality")
    parser.add_argument("--quality-megapixels", type=float, default=0.0,
                        help="--quality on the photos and truth upscaled to this size (1: a "
                             "batch photo's); 0: their own size")
    parser.add_argument("--evaldata", type=Path, default=ROOT.parent / "shared" / "evaldata")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "refine")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.models = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        old = load_reference(args.ref, Path(tmp))
        from alphacut.core.refine import foreground, matting, tiles

        new = {"matting": matting, "foreground": foreground, "tiles": tiles}
        rows = [] if args.skip_speed else speed(args, old, new)
        qual = quality(args, old, new) if args.quality else None
        batches = batch(args) if args.batch else []
    print(report(rows, qual))
    fast = next((b["wall_per_image"] for b in batches if b["arm"].startswith("fast")), None)
    for b in batches:
        share = f"{fast / b['wall_per_image']:.0%} of fast" if fast else ""
        print(f"batch | {b['arm']} | {b['wall_per_image']:.3f} s/img wall | "
              f"{b['cpu_per_image']:.3f} s/img CPU | {share}")
    if args.json:
        args.json.write_text(json.dumps({"speed": rows, "quality": qual, "batch": batches},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
