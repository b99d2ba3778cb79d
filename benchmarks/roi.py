"""Box prompt (``--roi``) vs the whole-frame pass on small subjects in 12 MP photos.

    python benchmarks/roi.py [--count 24] [--model u2netp] [--preset balanced]
                             [--fraction 0.10,0.15] [--pad 4] [--seed 13] [--evaldata PATH]
                             [--json PATH]

Scenes (built in memory, nothing written): a subject photo from ../shared/evaldata (ecssd,
duts_te, oxford_iiit_pet in turn, the subject cut out with its ground-truth mask) is scaled so
its mask's longer side is ``--fraction`` (drawn uniformly) of the scene's long side and pasted
at a random place into a 4608x2592 (11.9 MP) background. The background is a real DAVIS 2016
frame (blackswan, car-shadow, dog; 854x480; a random frame each time): the widest 16:9 window
that its annotated subject does not touch (384-854 px wide), scaled up with Lanczos, so a real
scene without a subject of its own (softer than a real 12 MP photo: it is scaled up 5-12x).

Each scene runs twice through the same Engine: whole frame, and with ``roi`` = the pasted
subject's box + ``--pad`` px. IoU (alpha >= 0.5 vs pasted gt > 128, over the whole frame; the
pets' 128 band ignored) and MAE for both, CPU seconds (``time.process_time``, all threads) of
each pass; a Markdown table per set and overall.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from alphacut.api import Remover  # noqa: E402
from alphacut.eval.datasets import discover, read_gray, read_rgb  # noqa: E402
from alphacut.eval.metrics import iou, mae  # noqa: E402

SETS = ("ecssd", "duts_te", "oxford_iiit_pet")
SCENE = (4608, 2592)  # (w, h): 11.9 MP, the DAVIS frames' 16:9
DAVIS = ("blackswan", "car-shadow", "dog")  # dance-twirl: its crowd is unannotated


@dataclass
class Row:
    """One scene's figures."""

    set: str
    name: str
    subject_px: int  # the pasted subject's longer side, pixels
    whole_iou: float
    roi_iou: float
    whole_mae: float
    roi_mae: float
    whole_cpu: float
    roi_cpu: float


def empty_background(evaldata: Path, rng: np.random.Generator) -> np.ndarray:
    """The largest 16:9 window of a random DAVIS frame that its annotated subject (dilated)
    does not touch, scaled up to SCENE with Lanczos: ``uint8 (h, w, 3)``."""
    while True:
        seq = evaldata / "davis2016" / DAVIS[int(rng.integers(len(DAVIS)))]
        frames = sorted((seq / "frames").glob("*.jpg"))
        frame = frames[int(rng.integers(len(frames)))]
        subject = read_gray(seq / "masks" / (frame.stem + ".png")) > 0
        window = free_window(cv2.dilate(subject.astype(np.uint8), np.ones((31, 31), np.uint8)))
        if window is not None:
            x, y, w, h = window
            rgb = read_rgb(frame)[y:y + h, x:x + w]
            return cv2.resize(rgb, SCENE, interpolation=cv2.INTER_LANCZOS4)


def free_window(subject: np.ndarray, min_width: int = 384) -> tuple[int, int, int, int] | None:
    """The widest 16:9 ``(x, y, w, h)`` with no ``subject`` pixel (stride 8 px), or None."""
    height, width = subject.shape
    counts = cv2.integral(subject.astype(np.uint8))
    for w in range(width, min_width - 1, -16):
        h = w * 9 // 16
        if h > height:
            continue
        ys, xs = np.mgrid[0:height - h + 1:8, 0:width - w + 1:8]
        inside = counts[ys + h, xs + w] - counts[ys, xs + w] - counts[ys + h, xs] + counts[ys, xs]
        free = np.argwhere(inside == 0)
        if len(free):
            i, j = free[len(free) // 2]
            return int(xs[i, j]), int(ys[i, j]), w, h
    return None


def paste(scene: np.ndarray, rgb: np.ndarray, gt: np.ndarray, long_side: int,
          rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Paste the subject (``gt`` as its alpha) with its mask's box scaled to ``long_side`` px
    at a random place, in place; returns the scene's gt ``uint8 (h, w)`` and the box."""
    ys, xs = np.nonzero(gt > 0)
    y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb, gt = rgb[y1:y2, x1:x2], gt[y1:y2, x1:x2]
    scale = long_side / max(gt.shape)
    size = (max(1, round(gt.shape[1] * scale)), max(1, round(gt.shape[0] * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small_gt = cv2.resize(gt, size, interpolation=cv2.INTER_NEAREST if 128 in gt else
                          cv2.INTER_AREA)
    height, width = scene.shape[:2]
    x = int(rng.integers(0, width - size[0]))
    y = int(rng.integers(0, height - size[1]))
    alpha = (small_gt.astype(np.float32) / 255.0)[..., None]
    alpha = np.where(small_gt[..., None] == 128, 1.0, alpha)  # pets' band: the photo's pixels
    patch = scene[y:y + size[1], x:x + size[0]].astype(np.float32)
    scene[y:y + size[1], x:x + size[0]] = np.round(small * alpha + patch * (1 - alpha))
    truth = np.zeros((height, width), dtype=np.uint8)
    truth[y:y + size[1], x:x + size[0]] = small_gt
    return truth, (x, y, x + size[0], y + size[1])


def run_pass(remover: Remover, scene: np.ndarray, **options: Any) -> tuple[np.ndarray, float]:
    start = time.process_time()
    alpha = remover.remove(scene, **options).alpha
    return alpha, time.process_time() - start


def measure(args: argparse.Namespace) -> list[Row]:
    rng = np.random.default_rng(args.seed)
    lo, hi = (float(v) for v in args.fraction.split(","))
    remover = Remover(model=args.model, preset=args.preset)
    remover.load()
    sets = [discover(args.evaldata / name) for name in SETS]
    picks = {s.name: list(rng.permutation(len(s)))[: args.count] for s in sets}
    rows = []
    for i in range(args.count):
        dataset = sets[i % len(sets)]
        name, image_path, mask_path = dataset.entries[picks[dataset.name][i // len(sets)]]
        scene = empty_background(args.evaldata, rng)
        long_side = round(rng.uniform(lo, hi) * max(SCENE))
        truth, (x1, y1, x2, y2) = paste(scene, read_rgb(image_path), read_gray(mask_path),
                                        long_side, rng)
        pad = args.pad
        box = f"{max(0, x1 - pad)},{max(0, y1 - pad)},{min(SCENE[0], x2 + pad)}," \
              f"{min(SCENE[1], y2 + pad)}"
        ignore = truth == 128 if dataset.ignore_value == 128 else None
        whole, whole_cpu = run_pass(remover, scene)
        boxed, roi_cpu = run_pass(remover, scene, roi=box)
        row = Row(dataset.name, name, long_side, iou(whole, truth, ignore),
                  iou(boxed, truth, ignore), mae(whole, truth, ignore), mae(boxed, truth, ignore),
                  whole_cpu, roi_cpu)
        print(f"{i + 1:3d} {row.set:16s} {row.name:24s} {row.subject_px:4d}px  IoU "
              f"{row.whole_iou:.3f} -> {row.roi_iou:.3f}  CPU {whole_cpu:.1f}s -> "
              f"{roi_cpu:.1f}s", flush=True)
        rows.append(row)
    return rows


def table(rows: list[Row], args: argparse.Namespace) -> str:
    lines = [f"{args.model}, preset {args.preset}, {len(rows)} scenes of {SCENE[0]}x{SCENE[1]}, "
             f"subject {args.fraction.replace(',', '-')} of the long side, roi = its box + "
             f"{args.pad} px, seed {args.seed}", "",
             "| set | scenes | IoU whole frame | IoU with roi | MAE whole frame | MAE with roi "
             "| roi wins | CPU s whole | CPU s roi |",
             "|---|---|---|---|---|---|---|---|---|"]
    groups = [(s, [r for r in rows if r.set == s]) for s in SETS] + [("all", rows)]
    for name, group in groups:
        if not group:
            continue

        def mean(field: str, group: list[Row] = group) -> float:
            return statistics.fmean(getattr(r, field) for r in group)

        wins = sum(r.roi_iou > r.whole_iou for r in group)
        lines.append(f"| {name} | {len(group)} | {mean('whole_iou'):.3f} | "
                     f"{mean('roi_iou'):.3f} | {mean('whole_mae'):.4f} | {mean('roi_mae'):.4f} "
                     f"| {wins}/{len(group)} | {mean('whole_cpu'):.2f} | "
                     f"{mean('roi_cpu'):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--fraction", default="0.10,0.15")
    parser.add_argument("--pad", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--evaldata", type=Path, default=ROOT.parent / "shared" / "evaldata")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not (args.evaldata / "davis2016").is_dir():
        print(f"no evaldata at {args.evaldata}", file=sys.stderr)
        return 1
    rows = measure(args)
    print()
    print(table(rows, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
