"""Write evaluation results: ``report.md``, ``results.json`` and a gallery PNG per set.

``results`` is a list of ``harness.evaluate`` outputs, one per config; every table puts the
configs side by side (rows = config label, columns = metrics), so one report compares raw models
against refined pipelines.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alphacut.eval.harness import WORST_KEY

# (metric key, column header, format)
MASK_COLUMNS = [("mae", "MAE ↓", ".4f"), ("max_f", "maxF ↑", ".4f"),
                ("weighted_f", "wF ↑", ".4f"), ("s_measure", "S ↑", ".4f"),
                ("mean_e", "meanE ↑", ".4f"), ("iou", "IoU@0.5 ↑", ".4f")]
MATTE_COLUMNS = [("mae", "MAE ↓", ".4f"), ("sad", "SAD ↓", ".2f"), ("mse", "MSE ↓", ".5f"),
                 ("grad", "Grad ↓", ".2f"), ("conn", "Conn ↓", ".2f"),
                 ("sad_unknown", "SAD unk ↓", ".2f"), ("mse_unknown", "MSE unk ↓", ".5f"),
                 ("grad_unknown", "Grad unk ↓", ".2f"), ("conn_unknown", "Conn unk ↓", ".2f")]
TILE_HEIGHT = 256
CAPTION_HEIGHT = 18

CONVENTIONS = """\
Conventions: mask sets score `gt > 128` as foreground and use the prediction as is (no min-max
stretch). MAE and IoU (prediction ≥ 0.5) are means over images. maxF (β² = 0.3) is the maximum
over 256 thresholds of the F curve averaged over images; meanE is the mean of the averaged
E-measure curve; wF and S are means over images (all four from pysodmetrics). Oxford-IIIT Pet's
128 band is ignored: MAE/IoU over valid pixels only, and for F/wF/S/E the band is set to
background in both prediction and truth. Matte sets (alphamatting): SAD, gradient and
connectivity errors are sums over the region / 1000, MSE a mean, on alpha in [0, 1], following
the Deep Image Matting evaluation code (gradient σ = 1.4, connectivity step 0.1); "unk" = inside
the trimap's unknown band. "Overall" pools the images of all mask sets for the mask metrics
(MAE included) and of all matte sets for the matte metrics. Timings are mean milliseconds per
image per stage; `predict_wall` is the harness's wall clock around one prediction.
"""


# ---------------------------------------------------------------- tables


def _columns(kind: str) -> list[tuple[str, str, str]]:
    return MATTE_COLUMNS if kind == "matte" else MASK_COLUMNS


def _markdown(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else format(float(value), spec)


def compare_table(results: Sequence[dict[str, Any]], set_name: str | None = None) -> str:
    """Markdown table for one set (``None``: the overall pool): rows = configs, cols = metrics."""
    entries = [(r["config"], r["overall"] if set_name is None else r["sets"].get(set_name))
               for r in results]
    kinds = {e["kind"] for _, e in entries if e and "kind" in e}
    if set_name is None:
        names = {k for _, e in entries for k in e["metrics"]}
        columns = [c for c in MASK_COLUMNS + MATTE_COLUMNS[1:] if c[0] in names]
    else:
        columns = _columns(kinds.pop() if kinds else "mask")
    rows = [[label, str(e["count"]) if e else "0",
             *(_fmt((e or {}).get("metrics", {}).get(key), spec) for key, _, spec in columns)]
            for label, e in entries]
    return _markdown(["config", "n", *(header for _, header, _ in columns)], rows)


def timings_table(results: Sequence[dict[str, Any]], set_name: str | None = None) -> str:
    """Markdown table of mean milliseconds per stage: rows = configs, columns = stages."""
    entries = [(r["config"], r["overall"] if set_name is None else r["sets"].get(set_name))
               for r in results]
    stages: dict[str, None] = {}
    for _, e in entries:
        stages.update(dict.fromkeys((e or {}).get("timings", {})))
    rows = [[label, *(_fmt(1000.0 * t if (t := (e or {}).get("timings", {}).get(s)) is not None
                           else None, ".1f") for s in stages)] for label, e in entries]
    return _markdown(["config", *(f"{s} ms" for s in stages)], rows)


# ---------------------------------------------------------------- JSON


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if k != WORST_KEY}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def write_results_json(results: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Every number (set level, overall, per image, timings) for every config, as JSON."""
    path = Path(path)
    path.write_text(json.dumps(_jsonable(list(results)), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------- gallery


def _tile(array: npt.NDArray[np.uint8], height: int = TILE_HEIGHT) -> Any:
    """``uint8 (H, W)`` or ``(H, W, 3)`` → PIL RGB image ``height`` px high, aspect kept."""
    from PIL import Image

    image = Image.fromarray(array).convert("RGB")
    width = max(1, round(image.width * height / image.height))
    return image.resize((width, height), Image.Resampling.BILINEAR)


def error_heat(pred_u8: npt.NDArray[np.uint8], gt: npt.NDArray[np.uint8],
               ignore: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.uint8]:
    """|pred − gt| as an inferno heat map, ``uint8 (H, W, 3)`` RGB; ignored pixels are 0."""
    import cv2

    err = np.abs(pred_u8.astype(np.int16) - gt.astype(np.int16)).astype(np.uint8)
    if ignore is not None:
        err[ignore] = 0
    return cv2.cvtColor(cv2.applyColorMap(err, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def _gallery_row(sample: Any, pred_u8: npt.NDArray[np.uint8], caption: str) -> Any:
    from PIL import Image, ImageDraw

    from alphacut.eval.datasets import read_rgb

    tiles = [_tile(read_rgb(sample.image_path)), _tile(sample.gt), _tile(pred_u8),
             _tile(error_heat(pred_u8, sample.gt, sample.ignore))]
    width = sum(t.width for t in tiles) + 4 * (len(tiles) - 1)
    row = Image.new("RGB", (width, TILE_HEIGHT + CAPTION_HEIGHT), (255, 255, 255))
    ImageDraw.Draw(row).text((4, 3), caption, fill=(0, 0, 0))
    x = 0
    for tile in tiles:
        row.paste(tile, (x, CAPTION_HEIGHT))
        x += tile.width + 4
    return row


def write_gallery(set_entry: dict[str, Any], path: str | Path) -> Path | None:
    """Rows of image | truth | prediction | |error| heat for the kept worst images (worst
    first), each tile ~256 px high; ``None`` when nothing was kept."""
    from PIL import Image

    from alphacut.eval.datasets import discover

    worst = set_entry.get(WORST_KEY) or {}
    if not worst:
        return None
    dataset = discover(set_entry["root"])
    metric = set_entry["rank_by"]
    scores = {r["name"]: r["metrics"][metric] for r in set_entry["images"]}
    rows = [_gallery_row(dataset.sample(name), pred,
                         f"{name}   {metric} {scores[name]:.4f}   "
                         "image | truth | prediction | |error|")
            for name, pred in worst.items()]
    canvas = Image.new("RGB", (max(r.width for r in rows),
                               sum(r.height for r in rows) + 6 * (len(rows) - 1)),
                       (255, 255, 255))
    y = 0
    for row in rows:
        canvas.paste(row, (0, y))
        y += row.height + 6
    path = Path(path)
    canvas.save(path, optimize=True)
    return path


# ---------------------------------------------------------------- report.md


def slug(text: str) -> str:
    """A file-name-safe version of a config label."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "config"


def _set_names(results: Sequence[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for result in results:
        names.update(dict.fromkeys(result["sets"]))
    return list(names)


def _set_section(results: Sequence[dict[str, Any]], set_name: str, out_dir: Path) -> list[str]:
    first = next(r["sets"][set_name] for r in results if set_name in r["sets"])
    band = f", ignore band at {first['ignore_value']}" if first.get("ignore_value") else ""
    lines = [f"## {set_name}", "", f"{first['kind']} ground truth{band}; "
             f"gallery ranked by {first['rank_by']} (worst first).", "",
             compare_table(results, set_name), timings_table(results, set_name)]
    for result in results:
        entry = result["sets"].get(set_name)
        if entry is None:
            continue
        name = f"gallery_{slug(result['config'])}_{slug(set_name)}.png"
        if write_gallery(entry, out_dir / name) is not None:
            lines += [f"Worst {len(entry[WORST_KEY])} for `{result['config']}`:", "",
                      f"![{result['config']} {set_name}]({name})", ""]
    return lines


def render_markdown(results: Sequence[dict[str, Any]], out_dir: Path) -> str:
    """The whole report as markdown (writes the gallery PNGs into ``out_dir`` on the way)."""
    lines = ["# alphacut evaluation", "",
             f"Generated {time.strftime('%Y-%m-%d %H:%M')}. Configs:", ""]
    for result in results:
        options = ", ".join(f"{k}={v}" for k, v in result.get("options", {}).items())
        lines.append(f"- `{result['config']}`" + (f": {options}" if options else ""))
    lines += ["", CONVENTIONS, "## Overall", "", compare_table(results),
              timings_table(results)]
    for set_name in _set_names(results):
        lines += _set_section(results, set_name, out_dir)
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: Sequence[dict[str, Any]], out_dir: str | Path) -> Path:
    """Write ``report.md``, ``results.json`` and galleries into ``out_dir``; returns the md path.

    Galleries show the worst predictions each ``evaluate`` kept (its ``keep_worst``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_results_json(results, out / "results.json")
    report = out / "report.md"
    report.write_text(render_markdown(results, out), encoding="utf-8")
    return report
