"""Quality of alphacut's edges on real ground truth: raw models vs refinement, per preset.

One command, from a source checkout with the project's virtual environment active::

    python benchmarks/quality.py                 # everything (about 1-2 h on 2 busy cores)
    python benchmarks/quality.py --limit 10      # a quick look (first 10 images per set)

It reads ``../shared/evaldata`` (or ``--data`` / ``ALPHACUT_EVALDATA``) and writes:

- ``docs/quality.md``: the tables (raw models, refinement steps, presets with their cost,
  decontamination, targets) and ``docs/quality.json`` with every number;
- ``docs/img/hair-before-after.png``: a crop of alphamatting GT04's fur over magenta, raw
  model vs the balanced preset;
- ``benchmarks/work/quality/``: the harness's full report (every metric, worst-image galleries).

Steps measured (each alone on the default model, then the presets):

- raw: the model's mask, plain bilinear resize (``upsample=bilinear``, nothing else);
- ``guided``: the gray guided-filter upsampling instead of bilinear;
- ``+matting``: closed-form matting in the uncertain band (core/refine/matting.py);
- ``+flip``: the mirrored photo through the same model, logit-fused;
- ``+ensemble``: the ``auto`` partner model, logit-fused (core/fusion.py);
- decontamination: composite error on a new background (it does not change alpha).

Model outputs are memoised on disk (``benchmarks/work/quality/cache``, keyed by model and input
tensor), so configurations that share a model run it once; the recorded inference time is
added back to each image's timings. The 12 MP timings are measured live, without the memo.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from quality_report import set_ms, table, targets  # noqa: E402

from alphacut.config import Config  # noqa: E402
from alphacut.models.registry import DEFAULT_MODEL  # noqa: E402

MODELS = ["u2netp", "u2net", "isnet-general", "isnet-general-q", "modnet"]
CLEAN = ["ecssd", "oxford_iiit_pet", "alphamatting_train_lowres"]
ALL_SETS = [*CLEAN, "duts_te"]
RAW = {"upsample": "bilinear", "matting": False, "decontaminate": False, "ensemble": (),
       "tta_flip": False}
BACKGROUNDS = [(0, 255, 0), (255, 255, 255), (0, 0, 0), (255, 0, 255)]


# ---------------------------------------------------------------- memoised model runs


class Memo:
    """Memoises model outputs on disk through a session wrapper; ``saved`` = inference
    seconds replayed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.saved = 0.0
        self.enabled = True
        root.mkdir(parents=True, exist_ok=True)

    def wrap(self, session: Any) -> MemoSession:
        """The engine's ``wrap_session`` hook."""
        return MemoSession(self, session)

    def take(self) -> float:
        seconds, self.saved = self.saved, 0.0
        return seconds


class MemoSession:
    """A session whose ``run`` replays a stored output for a tensor it has seen."""

    def __init__(self, memo: Memo, session: Any) -> None:
        self.memo, self.session, self.spec = memo, session, session.spec

    def run(self, tensor: np.ndarray, **kwargs: Any) -> np.ndarray:
        memo = self.memo
        if not memo.enabled:
            return self.session.run(tensor, **kwargs)  # type: ignore[no-any-return]
        digest = hashlib.blake2b(np.ascontiguousarray(tensor).tobytes(), digest_size=16)
        path = memo.root / f"{self.spec.name}-{digest.hexdigest()}.npz"
        if path.is_file():
            with np.load(path) as data:
                memo.saved += float(data["seconds"])
                return data["out"].astype(np.float32)
        start = time.perf_counter()
        out = self.session.run(tensor, **kwargs)
        seconds = time.perf_counter() - start
        np.savez(path, out=np.asarray(out, np.float16), seconds=seconds)
        return out  # type: ignore[no-any-return]


def predictor(memo: Memo, output: str = "alpha", **options: Any) -> Callable[..., Any]:
    """A harness predictor running the engine, with replayed inference times added back."""
    from alphacut.engine import Engine

    engine = Engine(Config.build(**options), wrap_session=memo.wrap)

    def predict(path: Path) -> tuple[np.ndarray, dict[str, float]]:
        memo.take()
        result = engine.remove(path)
        timings = dict(result.timings)
        timings["infer"] = timings.get("infer", 0.0) + memo.take()
        alpha = result.alpha if output == "alpha" else result.soft
        return np.asarray(alpha, np.float32), timings

    return predict


def _spec(name: str) -> Any:
    from alphacut.models.registry import get_spec

    return get_spec(name)


def evaluate(memo: Memo, dirs: list[Path], label: str, limit: int | None,
             **options: Any) -> dict[str, Any]:
    from alphacut.eval.harness import evaluate as harness_evaluate

    print(f"· {label}", file=sys.stderr, flush=True)
    result = harness_evaluate(dirs, predict=predictor(memo, **options), config_label=label,
                              limit=limit, progress=False, keep_worst=4)
    result["options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    return result


# ---------------------------------------------------------------- decontamination


def composite_errors(data: Path, alpha_fn: Callable[[np.ndarray, Any], np.ndarray],
                     limit: int | None) -> dict[str, dict[str, float]]:
    """Composite error on new backgrounds, alphamatting set: mean |ours - truth| (0..255) over
    the trimap's unknown band, averaged over 4 backgrounds and the images.

    Truth = GT alpha x reference F + (1 - GT alpha) x B, reference F = pymatting's
    ``estimate_foreground_ml`` from the photo and GT alpha (standard practice; it favours the
    ML estimator when it is handed the GT alpha, so that row is left out).
    """
    from pymatting import estimate_foreground_ml

    from alphacut.core.refine.foreground import estimate_foreground
    from alphacut.eval.datasets import discover, read_rgb

    dataset = discover(data / "alphamatting_train_lowres")
    rows: dict[str, list[float]] = {}
    cost: dict[str, list[float]] = {}

    def add(key: str, fg: np.ndarray, alpha: np.ndarray, ref: np.ndarray, gt: np.ndarray,
            band: np.ndarray) -> None:
        errs = []
        for bg in BACKGROUNDS:
            b = np.asarray(bg, np.float64) / 255.0
            ours = alpha[..., None] * fg + (1.0 - alpha[..., None]) * b
            truth = gt[..., None] * ref + (1.0 - gt[..., None]) * b
            errs.append(float(np.abs(ours - truth).mean(-1)[band].mean() * 255.0))
        rows.setdefault(key, []).append(float(np.mean(errs)))

    for sample in dataset.samples(limit=limit):
        rgb = read_rgb(sample.image_path)
        image = rgb / 255.0
        gt = sample.gt / 255.0
        band = sample.trimap == 128
        ref = estimate_foreground_ml(image, gt)
        for alpha_name, alpha in (("GT alpha", gt.astype(np.float32)),
                                  ("balanced alpha", alpha_fn(rgb, sample))):
            add(f"{alpha_name} · plain (photo colours)", image, alpha, ref, gt, band)
            start = time.perf_counter()
            fg = estimate_foreground(rgb, alpha.astype(np.float32)) / 255.0
            cost.setdefault("blur-fusion", []).append(time.perf_counter() - start)
            add(f"{alpha_name} · blur-fusion (default)", fg, alpha, ref, gt, band)
            if alpha_name != "GT alpha":
                start = time.perf_counter()
                fg = estimate_foreground_ml(image, alpha.astype(np.float64))
                cost.setdefault("pymatting ML", []).append(time.perf_counter() - start)
                add(f"{alpha_name} · pymatting estimate_foreground_ml", fg, alpha, ref, gt, band)
    return {"error": {k: float(np.mean(v)) for k, v in rows.items()},
            "ms": {k: float(np.mean(v) * 1000) for k, v in cost.items()}}


# ---------------------------------------------------------------- 12 MP cost


def big_image(data: Path, work: Path, path: str | None) -> Path:
    """A 12 MP photo: ``path``, or alphamatting GT04 upscaled to 4000x3000 (Lanczos, JPEG)."""
    if path:
        return Path(path)
    from PIL import Image

    out = work / "12mp.jpg"
    if not out.is_file():
        src = data / "alphamatting_train_lowres" / "images" / "GT04.png"
        with Image.open(src) as im:
            im.convert("RGB").resize((4000, 3000), Image.LANCZOS).save(out, quality=92)
    return out


def stage_costs(image: Path, configs: dict[str, dict[str, Any]], repeat: int
                ) -> dict[str, dict[str, float]]:
    """Milliseconds per stage (best of ``repeat`` warm runs) for each config on ``image``."""
    from alphacut.api import Remover
    from alphacut.core.decode import decode

    rgb = decode(image).rgb
    out: dict[str, dict[str, float]] = {}
    for label, options in configs.items():
        remover = Remover(**options)  # sessions are shared between removers of one model
        remover.remove(rgb)  # warm: sessions, imports
        runs = [dict(remover.remove(rgb).timings) for _ in range(repeat)]
        best = min(runs, key=lambda t: sum(t.values()))
        out[label] = {k: v * 1000.0 for k, v in best.items()}
        out[label]["total"] = sum(v for k, v in out[label].items())
        print(f"  {label}: {out[label]['total']:.0f} ms", file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------- hair picture


def hair_picture(data: Path, out: Path, model: str) -> Path:
    """GT04's pink hair: the raw model (bilinear mask, photo colours) | the balanced preset |
    the ground truth, over magenta (top row) and as alpha (bottom row), labelled; a PNG."""
    from PIL import Image, ImageDraw

    from alphacut.api import Remover

    name = "GT04"
    src = data / "alphamatting_train_lowres" / "images" / f"{name}.png"
    truth = np.asarray(Image.open(src.parents[1] / "masks" / f"{name}.png").convert("L"))
    remover = Remover(model=model)
    raw = remover.remove(src, **RAW)
    refined = remover.remove(src, preset="balanced")
    magenta = np.array([255.0, 0.0, 255.0])

    def over(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        a = alpha[..., None]
        return np.clip(a * fg + (1.0 - a) * magenta + 0.5, 0, 255).astype(np.uint8)

    def grey(alpha: np.ndarray) -> np.ndarray:
        return np.repeat(np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)[..., None], 3, 2)

    photo = raw.image.astype(np.float64)
    panels = [  # (label, composite, alpha)
        (f"raw {model}, bilinear", over(photo, raw.alpha), grey(raw.alpha)),
        ("alphacut balanced", over(refined.foreground.astype(np.float64), refined.alpha),
         grey(refined.alpha)),
        ("ground truth", over(photo, truth / 255.0), grey(truth / 255.0)),
    ]
    y0, y1, x0, x1 = 0, 260, 110, 510  # the pink-haired troll's hair
    gap = 6
    h, w = y1 - y0, x1 - x0
    canvas = np.full((2 * h + gap, len(panels) * (w + gap) - gap, 3), 255, np.uint8)
    for i, (_, composite, alpha) in enumerate(panels):
        x = i * (w + gap)
        canvas[:h, x:x + w] = composite[y0:y1, x0:x1]
        canvas[h + gap:, x:x + w] = alpha[y0:y1, x0:x1]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for i, (label, _, _) in enumerate(panels):
        x = i * (w + gap) + 6
        draw.rectangle((x - 2, 4, x + 6 * len(label) + 6, 20), fill=(0, 0, 0))
        draw.text((x + 1, 6), label, fill=(255, 255, 255))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
    return out


# ---------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("ALPHACUT_EVALDATA",
                                                         str(ROOT.parent / "shared/evaldata")))
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the model the presets use")
    parser.add_argument("--models", default=",".join(MODELS), help="raw table models")
    parser.add_argument("--compare", default="isnet-general",
                        help="other models to refine too (comma list, may be empty)")
    parser.add_argument("--limit", type=int, default=None, help="first N images per set")
    parser.add_argument("--big", default=None, help="a 12 MP photo for the cost table")
    parser.add_argument("--repeat", type=int, default=2, help="warm runs per 12 MP config")
    parser.add_argument("--work", default=str(ROOT / "benchmarks/work/quality"))
    parser.add_argument("--docs", default=str(ROOT / "docs"))
    parser.add_argument("--skip", default="", help="comma list of: raw,steps,decon,cost,picture")
    args = parser.parse_args(argv)
    data, work, docs = Path(args.data), Path(args.work), Path(args.docs)
    skip = set(filter(None, args.skip.split(",")))
    if not (data / "ecssd").is_dir():
        print(f"no evaluation data at {data} (set --data or ALPHACUT_EVALDATA)", file=sys.stderr)
        return 2
    work.mkdir(parents=True, exist_ok=True)
    memo = Memo(work / "cache")
    clean = [data / s for s in CLEAN]
    everything = [data / s for s in ALL_SETS if (data / s).is_dir()]
    numbers: dict[str, Any] = {"model": args.model, "limit": args.limit}
    all_results: list[dict[str, Any]] = []

    raw: list[dict[str, Any]] = []
    if "raw" not in skip:
        for m in args.models.split(","):
            raw.append(evaluate(memo, everything, f"{m} raw", args.limit, model=m, **RAW))
        all_results += raw
    m = args.model
    steps_cfg: dict[str, tuple[str, dict[str, Any]]] = {
        f"{m} raw (bilinear)": (m, {**RAW}),
        f"{m} guided (gray)": (m, {**RAW, "upsample": "guided"}),
        f"{m} +matting": (m, {**RAW, "matting": True}),
        f"{m} +matting, band 0.005": (m, {**RAW, "matting": True, "matting_band": 0.005}),
        f"{m} +flip +matting": (m, {**RAW, "matting": True, "tta_flip": True}),
        f"{m} +ensemble (auto)": (m, {**RAW, "ensemble": ("auto",)}),
        f"{m} +ensemble (auto) +matting": (m, {**RAW, "matting": True, "ensemble": ("auto",)}),
        f"{m} preset fast": (m, {"preset": "fast"}),
        f"{m} preset balanced (default)": (m, {"preset": "balanced"}),
        f"{m} preset best": (m, {"preset": "best"}),
    }
    for other in filter(None, args.compare.split(",")):
        steps_cfg[f"{other} preset balanced"] = (other, {"preset": "balanced"})
        steps_cfg[f"{other} +flip +matting"] = (other, {"preset": "balanced", "tta_flip": True})
        steps_cfg[f"{other} preset best"] = (other, {"preset": "best"})
    steps: list[dict[str, Any]] = []
    if "steps" not in skip:
        for label, (model, options) in steps_cfg.items():
            steps.append(evaluate(memo, clean, label, args.limit, model=model, **options))
        all_results += steps
    if all_results:
        from alphacut.eval.report import write_report

        write_report(all_results, work)
    decon: dict[str, Any] = {"error": {}, "ms": {}}
    if "decon" not in skip:
        from alphacut.api import Remover

        remover = Remover(model=m, preset="balanced")
        decon = composite_errors(data, lambda rgb, s: remover.remove(rgb).alpha, args.limit)
    cost: dict[str, Any] = {}
    if "cost" not in skip:
        memo.enabled = False
        image = big_image(data, work, args.big)
        cost = stage_costs(image, {
            f"{m} raw (bilinear)": {"model": m, **RAW},
            f"{m} guided (gray)": {"model": m, **RAW, "upsample": "guided"},
            f"{m} +matting": {"model": m, **RAW, "matting": True},
            f"{m} +decontaminate": {"model": m, **RAW, "decontaminate": True},
            f"{m} preset fast": {"model": m, "preset": "fast"},
            f"{m} preset balanced (default)": {"model": m, "preset": "balanced"},
            f"{m} preset best": {"model": m, "preset": "best"},
            **{f"{o} preset {p}": {"model": o, "preset": p}
               for o in filter(None, args.compare.split(",")) for p in ("fast", "balanced")},
        }, args.repeat)
        memo.enabled = True
    if "picture" not in skip:
        hair_picture(data, docs / "img" / "hair-before-after.png", m)

    numbers.update(raw={r["config"]: {s: v["metrics"] for s, v in r["sets"].items()}
                        for r in raw},
                   steps={r["config"]: {s: {**v["metrics"], "ms": set_ms(r, s)}
                                        for s, v in r["sets"].items()} for r in steps},
                   decontamination=decon, cost_12mp_ms=cost)
    lines = ["# alphacut quality on real ground truth", "",
             f"Generated by `python benchmarks/quality.py` ({time.strftime('%Y-%m-%d')}; "
             f"limit: {args.limit or 'all images'}). Full report with every metric and the "
             "worst-image galleries: `benchmarks/work/quality/report.md` (written by the run; "
             "not committed, as it shows dataset images).", ""]
    if raw:
        lines += ["## Raw models, plain bilinear resize", "",
                  "modnet is a portrait-matting model (people only); duts_te is likely in "
                  "isnet's training data (reported, not used to choose).", "",
                  table(raw, ALL_SETS, with_ms=True)]
    if steps:
        lines += [f"## Refinement steps and presets (main model {m})", "",
                  "Decontamination changes colours only, so fast/balanced/best alpha equals "
                  "the matching step rows; ms/img = mean per image at the set's size "
                  "(inference included).", "", table(steps, CLEAN, with_ms=True)]
    if decon["error"]:
        lines += ["## Decontamination (alphamatting, composite over 4 new backgrounds)", "",
                  "Mean |ours − truth| on 0..255 inside the trimap's unknown band; truth = GT "
                  "alpha × reference F (pymatting estimate_foreground_ml on GT alpha) + "
                  "(1 − GT alpha) × B.", "", "| alpha · foreground colours | error ↓ |",
                  "|---|---|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in decon["error"].items()]
        lines += ["", "Cost at the set's size: " + ", ".join(
            f"{k} {v:.0f} ms" for k, v in decon["ms"].items()), ""]
    if cost:
        lines += ["## Cost at 12 MP (4000×3000), ms, best of warm runs", "",
                  "| config | total | infer | mask | refine | other |", "|---|---|---|---|---|---|"]
        for label, t in cost.items():
            other = t["total"] - t.get("infer", 0) - t.get("mask", 0) - t.get("refine", 0)
            lines.append(f"| {label} | {t['total']:.0f} | {t.get('infer', 0):.0f} | "
                         f"{t.get('mask', 0):.0f} | {t.get('refine', 0):.0f} | {other:.0f} |")
        lines.append("")
    if raw and steps:
        default = next(r for r in steps if "balanced" in r["config"])
        lines += ["## Targets (issue 3), default pipeline = preset balanced", "",
                  *targets(raw, default, decon), ""]
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "quality.md").write_text("\n".join(lines))
    (docs / "quality.json").write_text(json.dumps(numbers, indent=1, default=str))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
