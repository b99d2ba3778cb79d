"""Touch-up strokes on alphamatting: SAD of the default matte vs the matte with two strokes.

    PYTHONPATH=src python benchmarks/strokes.py [--models u2netp,u2net] [--strokes 2]
                                                [--limit N] [--only GT13,GT23]
                                                [--pictures docs/img] [--json PATH]

For every photo of ../shared/evaldata/alphamatting_train_lowres (27 with ground-truth alpha):
the default (balanced) matte from the model's real soft mask, then ``--strokes`` synthetic
strokes drawn automatically from the ground truth where that matte is most wrong: the largest
connected blobs of pixels off by more than 0.5, each given one short straight line through its
deepest point along its long axis (a keep stroke where the truth is opaque, a remove stroke
where it is clear), sent as the JSON polylines a user of the page would send. SAD (in
thousands, as the alphamatting benchmark reports it) before and after, per photo and on
average; the CPU time of the refine step with and without strokes. Writes before/after
pictures of three photos into ``--pictures`` (JPEG, under 150 KB each).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVALDATA = ROOT.parent / "shared" / "evaldata" / "alphamatting_train_lowres"
WRONG = 0.5  # a pixel is wrong when its alpha is this far from the truth
PICTURES = ("GT13", "GT18", "GT23")


def blob_strokes(alpha: np.ndarray, gt: np.ndarray, count: int) -> dict[str, Any]:
    """JSON strokes ``{"keep": [{"points", "width"}, ...], "remove": [...]}`` for the
    ``count`` largest error blobs of ``alpha`` against ``gt`` (``float32 (H, W)`` in [0, 1])."""
    import cv2

    truth_clear, truth_opaque = gt <= 0.05, gt >= 0.95
    candidates = []
    for kind, wrong in (("remove", (alpha - gt > WRONG) & truth_clear),
                        ("keep", (gt - alpha > WRONG) & truth_opaque)):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(wrong.astype(np.uint8), 8)
        for label in range(1, n):
            candidates.append((int(stats[label, cv2.CC_STAT_AREA]), kind, labels == label))
    candidates.sort(key=lambda c: -c[0])
    out: dict[str, Any] = {"keep": [], "remove": []}
    for _, kind, blob in candidates[:count]:
        line, width = blob_line(blob)
        out[kind].append({"points": line, "width": width})
    return out


def blob_line(blob: np.ndarray) -> tuple[list[list[float]], float]:
    """A short line inside ``blob`` ``bool (H, W)``: through its deepest point, along its long
    axis, as long as it stays a pen's half width inside; and that pen width (2..12 px)."""
    import cv2

    depth = cv2.distanceTransform(np.pad(blob, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y0, x0 = np.unravel_index(int(np.argmax(depth)), depth.shape)
    width = float(np.clip(depth[y0, x0], 2.0, 12.0))
    ys, xs = np.nonzero(blob)
    cov = np.cov(np.stack([xs, ys]).astype(np.float64)) if xs.size > 2 else np.eye(2)
    values, vectors = np.linalg.eigh(cov)
    dx, dy = vectors[:, int(np.argmax(values))]
    ends = []
    for sign in (1.0, -1.0):
        t = 0.0
        limit = 0.5 * 2.0 * np.sqrt(max(values.max(), 1.0))  # half of a +-1 sd long axis
        while t < limit:
            x, y = x0 + sign * (t + 1) * dx, y0 + sign * (t + 1) * dy
            xi, yi = round(x), round(y)
            if not (0 <= yi < blob.shape[0] and 0 <= xi < blob.shape[1]) or \
                    depth[yi, xi] < width / 2:
                break
            t += 1
        ends.append([float(x0 + sign * t * dx), float(y0 + sign * t * dy)])
    return [ends[0], ends[1]], width


def run(models: list[str], count: int, limit: int | None, pictures: Path | None,
        only: set[str] | None = None) -> list[dict[str, Any]]:
    from alphacut.api import Remover
    from alphacut.config import RefineOptions
    from alphacut.engine.stages import refine_matte
    from alphacut.eval import metrics
    from alphacut.eval.datasets import discover, read_rgb

    rows = []
    for model in models:
        remover = Remover(model=model, preset="fast")
        for sample in discover(EVALDATA).samples(limit=limit):
            if only and sample.name not in only:
                continue
            rgb = read_rgb(sample.image_path)
            soft = remover.remove(rgb).soft  # the model's mask, resized bilinearly
            gt = sample.gt.astype(np.float32) / 255.0
            cpu = time.process_time()
            before, _ = refine_matte(rgb, soft, RefineOptions(decontaminate=False))
            cpu_before = time.process_time() - cpu
            strokes = blob_strokes(before, gt, count)
            cpu = time.process_time()
            after, _ = refine_matte(rgb, soft, RefineOptions(decontaminate=False,
                                                             strokes=json.dumps(strokes)))
            cpu_after = time.process_time() - cpu
            row = {"model": model, "photo": sample.name,
                   "strokes": len(strokes["keep"]) + len(strokes["remove"]),
                   "sad_before": metrics.sad(before, sample.gt),
                   "sad_after": metrics.sad(after, sample.gt),
                   "cpu_before": cpu_before, "cpu_after": cpu_after}
            rows.append(row)
            print(f"  {model} {sample.name}: SAD {row['sad_before']:.1f} -> "
                  f"{row['sad_after']:.1f} ({row['strokes']} strokes)", file=sys.stderr)
            if pictures is not None and model == models[0] and sample.name in PICTURES:
                picture(pictures / f"strokes-{sample.name.lower()}.jpg", rgb, before, after,
                        strokes)
    return rows


def picture(path: Path, rgb: np.ndarray, before: np.ndarray, after: np.ndarray,
            strokes: dict[str, Any]) -> None:
    """Photo with the strokes drawn (green keep, red remove) | before over grey | after."""
    import cv2

    grey = np.full_like(rgb, 150)
    shown = []
    for alpha in (before, after):
        a = alpha[..., None]
        shown.append((rgb * a + grey * (1.0 - a)).astype(np.uint8))
    marked = rgb.copy()
    for kind, colour in (("keep", (0, 220, 0)), ("remove", (230, 0, 0))):
        for line in strokes[kind]:
            pts = np.round(np.asarray(line["points"])).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(marked, [pts], False, colour, max(3, round(line["width"])))
    strip = np.concatenate([marked, *shown], axis=1)
    scale = min(1.0, 1500 / strip.shape[1])
    strip = cv2.resize(strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    path.parent.mkdir(parents=True, exist_ok=True)
    for quality in (85, 75, 65, 55, 45):
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(strip, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(data) <= 150_000:
            break
    path.write_bytes(data.tobytes())


def report(rows: list[dict[str, Any]]) -> str:
    lines = ["| model | photo | strokes | SAD before (k) | SAD after (k) | change |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['photo']} | {r['strokes']} | "
                     f"{r['sad_before']:.2f} | {r['sad_after']:.2f} | "
                     f"{change(r['sad_before'], r['sad_after'])} |")
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        before = float(np.mean([r["sad_before"] for r in mine]))
        after = float(np.mean([r["sad_after"] for r in mine]))
        per = float(np.mean([(r["sad_after"] - r["sad_before"]) / r["sad_before"]
                             for r in mine]))
        cpu = (float(np.mean([r["cpu_before"] for r in mine])),
               float(np.mean([r["cpu_after"] for r in mine])))
        lines.append(f"| **{model} mean** | {len(mine)} photos | | {before:.2f} | "
                     f"{after:.2f} | {change(before, after)} (per-photo mean "
                     f"{per * 100:+.1f}%; refine CPU {cpu[0]:.2f}s -> {cpu[1]:.2f}s) |")
    return "\n".join(lines)


def change(before: float, after: float) -> str:
    return f"{(after - before) / before * 100:+.1f}%" if before else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="u2netp")
    parser.add_argument("--strokes", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--pictures", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--no-pictures", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--only", default="", help="comma list of photos, e.g. GT13,GT23")
    args = parser.parse_args(argv)
    if not EVALDATA.is_dir():
        print(f"evaluation data not found at {EVALDATA}", file=sys.stderr)
        return 2
    rows = run(args.models.split(","), args.strokes, args.limit,
               None if args.no_pictures else args.pictures,
               {n for n in args.only.split(",") if n} or None)
    print(report(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
