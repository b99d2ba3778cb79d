"""The benchmark's Markdown tables and its target checks, from the results of ``run.py``."""

from __future__ import annotations

from typing import Any

from alphacut.engine.stages import STAGES as ENGINE_STAGES

TARGETS = {"speedup_12mp": 3.0, "overhead_12mp": 0.25, "batch_fraction": 0.90, "cli": 5.0,
           "rss_24mp_mb": 2048.0}


def fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


STAGES = (*ENGINE_STAGES, "write")  # the engine's order, then the file write


def report(results: dict[str, Any]) -> str:
    lines = [f"# alphacut vs rembg ({results['machine']})", "",
             f"Median of {results['repeat']} runs after a warm-up; both tools in the same run, "
             "same images, same .onnx files. Times in seconds.", ""]
    lib = results.get("library", [])
    if lib:
        lines += ["## One image, library call (file in -> file out)", "",
                  "| model | image | alphacut | alphacut fast | rembg | speed-up | speed-up fast "
                  "| inference | overhead | overhead fast | rembg inference | peak RSS alphacut "
                  "| peak RSS rembg |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in lib:
            d, f = r["default"], r["fast"]
            lines.append(
                f"| {r['model']} | {r['size']} | {fmt(d['wall'])} | {fmt(f['wall'])} | "
                f"{fmt(r['rembg'])} | {d['speedup']:.1f}x | {f['speedup']:.1f}x | "
                f"{fmt(r['infer'])} | {d['overhead']:.0%} | {f['overhead']:.0%} | "
                f"{fmt(r['rembg_infer'])} | {r['rss_ac_mb']:.0f} MB | {r['rss_rembg_mb']:.0f} MB |")
        lines += ["", "alphacut per stage (median s; default preset / fast):", "",
                  "| model | image | preset | " + " | ".join(STAGES) + " |",
                  "|---|---|---|" + "---|" * len(STAGES)]
        for r in lib:
            for preset in ("default", "fast"):
                st = r[preset]["stages"]
                lines.append(f"| {r['model']} | {r['size']} | {preset} | "
                             + " | ".join(fmt(st.get(s, 0.0)) for s in STAGES) + " |")
        lines.append("")
    batch = results.get("batch", [])
    if batch:
        lines += [f"## Batch of {batch[0]['n']} photos of 1 MP (images/s)", "",
                  "| model | alphacut lib (fast) | rembg lib | speed-up (fast) "
                  "| alphacut CLI (fast) | rembg CLI | speed-up CLI (fast) | 1/inference "
                  "| alphacut / ceiling (fast) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in batch:
            lines.append(
                f"| {r['model']} | {fmt(r['ac'], 2)} ({fmt(r['ac_fast'], 2)}) | "
                f"{fmt(r['rembg'], 2)} | {r['ac'] / r['rembg']:.1f}x "
                f"({r['ac_fast'] / r['rembg']:.1f}x) | {fmt(r['ac_cli'], 2)} "
                f"({fmt(r['ac_cli_fast'], 2)}) | {fmt(r['rembg_cli'], 2)} "
                f"| {r['ac_cli'] / r['rembg_cli']:.1f}x ({r['ac_cli_fast'] / r['rembg_cli']:.1f}x)"
                f" | {fmt(r['ceiling'], 2)} | {r['fraction']:.0%} ({r['fraction_fast']:.0%}) |")
        lines.append("")
    cli = results.get("cli", [])
    if cli:
        lines += ["## CLI, one photo, whole process (start-up included)", "",
                  "| model | image | alphacut | alphacut fast | rembg | speed-up | speed-up fast "
                  "| peak RSS alphacut | peak RSS rembg |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in cli:
            lines.append(f"| {r['model']} | {r['size']} | {fmt(r['ac'], 2)} | "
                         f"{fmt(r['ac_fast'], 2)} | {fmt(r['rembg'], 2)} | {r['speedup']:.1f}x | "
                         f"{r['speedup_fast']:.1f}x | {r['rss_ac_mb']:.0f} MB "
                         f"| {r['rss_rembg_mb']:.0f} MB |")
        lines.append("")
    iou_rows = results.get("iou", [])
    if iou_rows:
        lines += [f"## Quality on ecssd ({iou_rows[0]['n']} images, alpha >= 0.5 vs gt > 128)",
                  "", "| model | IoU alphacut | IoU rembg | ΔIoU | MAE alphacut | MAE rembg |",
                  "|---|---|---|---|---|---|"]
        for r in iou_rows:
            lines.append(f"| {r['model']} | {fmt(r['iou_ac'], 4)} | {fmt(r['iou_rembg'], 4)} | "
                         f"{r['iou_ac'] - r['iou_rembg']:+.4f} | {fmt(r['mae_ac'], 4)} | "
                         f"{fmt(r['mae_rembg'], 4)} |")
        lines.append("")
    lines += ["## Targets", ""] + [f"- {t}" for t in targets(results)]
    return "\n".join(lines) + "\n"


def targets(results: dict[str, Any]) -> list[str]:
    out = []
    iou_by_model = {r["model"]: r for r in results.get("iou", [])}
    for r in results.get("library", []):
        if r["size"] == "12mp":
            q = iou_by_model.get(r["model"])
            quality = "" if q is None else (
                f", IoU {q['iou_ac']:.4f} vs {q['iou_rembg']:.4f} "
                f"({'ok' if q['iou_ac'] >= q['iou_rembg'] else 'LOWER'})")
            for preset in ("default", "fast"):
                s = r[preset]["speedup"]
                out.append(f"{'HIT ' if s >= TARGETS['speedup_12mp'] else 'MISS'} 12 MP end to "
                           f"end >= 3x rembg ({r['model']}, {preset}): {s:.1f}x"
                           f"{quality if preset == 'default' else ''}")
            for preset in ("default", "fast"):
                o = r[preset]["overhead"]
                out.append(f"{'HIT ' if o <= TARGETS['overhead_12mp'] else 'MISS'} 12 MP "
                           f"overhead <= 25% of inference ({r['model']}, {preset}): {o:.0%}")
        if r["size"] == "24mp":
            rss = r["rss_ac_mb"]
            out.append(f"{'HIT ' if rss < TARGETS['rss_24mp_mb'] else 'MISS'} 24 MP peak RSS "
                       f"< 2 GB ({r['model']}, library process): {rss:.0f} MB")
    for r in results.get("batch", []):
        for key, preset in (("", "default"), ("_fast", "fast")):
            f = r["fraction" + key]
            out.append(f"{'HIT ' if f >= TARGETS['batch_fraction'] else 'MISS'} batch 1 MP >= "
                       f"90% of 1/inference ({r['model']}, {preset}): {f:.0%} "
                       f"({r['ac' + key]:.2f} of {r['ceiling']:.2f} img/s)")
        # one image on the all-cores session is not the model's batch limit: two one-thread
        # sessions outrun it (fast has reached 114 % of it), so the default is also held to
        # what fast, the model alone, reaches in the same run
        f = r["ac"] / r["ac_fast"]
        out.append(f"{'HIT ' if f >= TARGETS['batch_fraction'] else 'MISS'} batch 1 MP >= "
                   f"90% of the fast preset's rate ({r['model']}, default): {f:.0%} "
                   f"({r['ac']:.2f} of {r['ac_fast']:.2f} img/s)")
    for r in results.get("cli", []):
        for key, preset in (("", "default"), ("_fast", "fast")):
            s = r["speedup" + key]
            out.append(f"{'HIT ' if s >= TARGETS['cli'] else 'MISS'} CLI one photo >= 5x rembg "
                       f"({r['model']}, {r['size']}, {preset}): {s:.1f}x")
        if r["size"] == "24mp":
            rss = r["rss_ac_mb"]
            out.append(f"{'HIT ' if rss < TARGETS['rss_24mp_mb'] else 'MISS'} 24 MP peak RSS "
                       f"< 2 GB ({r['model']}, CLI process): {rss:.0f} MB")
    return out
