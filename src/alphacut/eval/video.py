"""Video evaluation: region J, boundary F and flicker (dtSSD) on sequences with per-frame
ground truth, the per-frame baseline next to the temporal pipeline (the causal filter, for live
input, and the default symmetric window, which looks ahead).

A video set is a folder of sequences laid out as ``<seq>/frames/*.jpg`` + ``<seq>/masks/*.png``
(DAVIS 2016 style; a single ``<seq>`` folder works too). Metrics, with ``pred`` ``float (H, W)``
in [0, 1] and ``gt`` ``uint8 (H, W)`` 0..255:

- ``J``: IoU of ``pred >= 0.5`` with ``gt > 128``; 1 when both are empty (DAVIS).
- ``F``: boundary F-measure (DAVIS): boundary pixels of the two binary masks matched within
  ``ceil(0.008 * diagonal)`` pixels; ``2PR / (P + R)``.
- ``dtSSD``: 100 * sqrt(mean(((a_t - a_{t-1}) - (g_t - g_{t-1}))^2)) on [0, 1] values, 0 for
  the first frame (RVM's definition); a sequence's value is the mean over all its frames.

Sequence values are means over frames; a set's are means over its sequences.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
U8Array = npt.NDArray[np.uint8]
MODES = ("per-frame", "causal", "window")
"""per-frame: stabilisation off; causal: ``TemporalParams(lookahead=0)``; window: the default."""


# ---------------------------------------------------------------- metrics


def region_j(pred: FloatArray, gt: U8Array) -> float:
    """IoU of ``pred >= 0.5`` with ``gt > 128``; 1.0 when both are empty."""
    p, g = np.asarray(pred) >= 0.5, np.asarray(gt) > 128
    union = np.count_nonzero(p | g)
    return 1.0 if union == 0 else np.count_nonzero(p & g) / union


def _boundary(binary: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    import cv2

    eroded = cv2.erode(binary.astype(np.uint8), np.ones((3, 3), np.uint8),
                       borderType=cv2.BORDER_REPLICATE)
    return binary & (eroded == 0)


def boundary_f(pred: FloatArray, gt: U8Array, *, tolerance: float = 0.008) -> float:
    """DAVIS boundary F: precision and recall of boundary pixels within
    ``ceil(tolerance * image diagonal)`` pixels of the other mask's boundary."""
    import cv2

    p_edge, g_edge = _boundary(np.asarray(pred) >= 0.5), _boundary(np.asarray(gt) > 128)
    n_p, n_g = np.count_nonzero(p_edge), np.count_nonzero(g_edge)
    if n_p == 0 and n_g == 0:
        return 1.0
    if n_p == 0 or n_g == 0:
        return 0.0
    radius = math.ceil(tolerance * math.hypot(*p_edge.shape))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    g_near = cv2.dilate(g_edge.astype(np.uint8), disk) > 0
    p_near = cv2.dilate(p_edge.astype(np.uint8), disk) > 0
    precision = np.count_nonzero(p_edge & g_near) / n_p
    recall = np.count_nonzero(g_edge & p_near) / n_g
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def dtssd(pred: FloatArray, prev_pred: FloatArray | None, gt: U8Array,
          prev_gt: U8Array | None) -> float:
    """Flicker of one frame against the previous one (0 for the first frame)."""
    if prev_pred is None or prev_gt is None:
        return 0.0
    d_pred = np.asarray(pred, np.float64) - np.asarray(prev_pred, np.float64)
    d_gt = (np.asarray(gt, np.float64) - np.asarray(prev_gt, np.float64)) / 255.0
    return float(100.0 * np.sqrt(np.mean((d_pred - d_gt) ** 2)))


class SequenceScorer:
    """Accumulates J, F and dtSSD over one sequence's frames, in order."""

    def __init__(self) -> None:
        self.j: list[float] = []
        self.f: list[float] = []
        self.dt: list[float] = []
        self._prev: tuple[FloatArray, U8Array] | None = None

    def step(self, pred: FloatArray, gt: U8Array) -> None:
        prev_pred, prev_gt = self._prev if self._prev is not None else (None, None)
        self.j.append(region_j(pred, gt))
        self.f.append(boundary_f(pred, gt))
        self.dt.append(dtssd(pred, prev_pred, gt, prev_gt))
        self._prev = (np.asarray(pred, np.float32), gt)

    def results(self) -> dict[str, float]:
        return {"J": float(np.mean(self.j)), "F": float(np.mean(self.f)),
                "dtSSD": float(np.mean(self.dt)), "frames": len(self.j)}


# ---------------------------------------------------------------- sets on disk


def is_sequence(path: str | Path) -> bool:
    p = Path(path)
    return (p / "frames").is_dir() and (p / "masks").is_dir()


def is_video_set(path: str | Path) -> bool:
    """A sequence folder, or a folder holding sequence folders."""
    p = Path(path)
    return p.is_dir() and (is_sequence(p) or any(is_sequence(c) for c in p.iterdir()
                                                 if c.is_dir()))


def sequences(path: str | Path) -> list[Path]:
    p = Path(path)
    if is_sequence(p):
        return [p]
    return sorted(c for c in p.iterdir() if c.is_dir() and is_sequence(c))


def _truth(seq: Path, frame_name: str) -> U8Array:
    from PIL import Image

    return np.asarray(Image.open(seq / "masks" / f"{frame_name}.png").convert("L"))


def score_sequence(seq: Path, *, temporal: Any, limit: int | None = None,
                   **options: Any) -> dict[str, Any]:
    """Run one configuration over a sequence; J, F, dtSSD, and frames per second."""
    from alphacut.video.api import iter_video

    scorer = SequenceScorer()
    start = time.perf_counter()
    frames = iter_video(seq / "frames", temporal=temporal, **options)
    try:
        for item in frames:
            scorer.step(item.result.alpha, _truth(seq, item.frame.name or ""))
            if limit and len(scorer.j) >= limit:
                break
    finally:
        frames.close()  # stops the decode and model threads when ``limit`` cut it short
    seconds = time.perf_counter() - start
    return {**scorer.results(), "fps": len(scorer.j) / seconds if seconds else 0.0}


def run_video_eval(dataset_dirs: Iterable[str | Path], out_dir: str | Path,
                   configs: Mapping[str, Mapping[str, Any]], *, limit: int | None = None,
                   progress: bool = True) -> list[dict[str, Any]]:
    """Every config, per-frame and temporal, on every sequence; writes ``video.md`` and
    ``video.json`` into ``out_dir`` and returns the rows."""
    import sys

    rows: list[dict[str, Any]] = []
    seqs = [s for d in dataset_dirs for s in sequences(d)]
    for label, options in configs.items():
        options = {k: v for k, v in options.items() if k != "output"}
        for mode in MODES:
            for seq in seqs:
                if progress:
                    print(f"video eval: {label} {mode} {seq.name}", file=sys.stderr)
                scores = score_sequence(seq, temporal=mode_temporal(mode), limit=limit,
                                        **options)
                rows.append({"config": label, "mode": mode, "sequence": seq.name, **scores})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "video.json").write_text(json.dumps(rows, indent=2))
    (out / "video.md").write_text(video_table(rows) + "\n")
    return rows


def mode_temporal(mode: str) -> Any:
    """``iter_video``'s ``temporal`` argument for one of ``MODES``."""
    if mode == "per-frame":
        return False
    if mode == "causal":
        from alphacut.video.temporal import TemporalParams

        return TemporalParams(lookahead=0)
    return True


def video_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: per sequence and the mean, each config per-frame next to the filters."""
    lines = ["| config | mode | sequence | frames | J | F | dtSSD | fps |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    keyed: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        keyed.setdefault((row["config"], row["mode"]), []).append(row)
        lines.append(f"| {row['config']} | {row['mode']} | {row['sequence']} | "
                     f"{row['frames']} | {row['J']:.4f} | {row['F']:.4f} | "
                     f"{row['dtSSD']:.3f} | {row['fps']:.2f} |")
    for (config, mode), group in keyed.items():
        mean = {k: float(np.mean([r[k] for r in group])) for k in ("J", "F", "dtSSD", "fps")}
        frames = sum(r["frames"] for r in group)
        lines.append(f"| **{config}** | **{mode}** | **mean** | {frames} | {mean['J']:.4f} | "
                     f"{mean['F']:.4f} | {mean['dtSSD']:.3f} | {mean['fps']:.2f} |")
    return "\n".join(lines)
