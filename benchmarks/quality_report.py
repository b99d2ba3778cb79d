"""The tables of benchmarks/quality.py: metric lookups, markdown tables, the targets' lines.

``results`` are the harness's per-configuration reports (``{"config": name, "sets": {set:
{"metrics": {...}, "timings": {...}}}}``); nothing here runs a model.
"""

from __future__ import annotations

from typing import Any

SHORT = {"ecssd": "ecssd", "oxford_iiit_pet": "pets", "alphamatting_train_lowres": "alphamatting",
         "duts_te": "duts_te"}


def metric(result: dict[str, Any], set_name: str, key: str) -> float:
    entry = result["sets"].get(set_name)
    return float("nan") if entry is None else float(entry["metrics"].get(key, float("nan")))


def set_ms(result: dict[str, Any], set_name: str) -> float:
    t = result["sets"][set_name]["timings"]
    return 1000.0 * sum(v for k, v in t.items() if k not in ("predict_wall",))


def table(results: list[dict[str, Any]], sets: list[str], with_ms: bool = False) -> str:
    head = ["config"]
    for s in sets:
        if s == "alphamatting_train_lowres":
            head += ["alphamatting SAD ↓", "Grad ↓", "SAD unk ↓", "Grad unk ↓"]
        else:
            head += [f"{SHORT[s]} MAE ↓", "IoU ↑"]
    if with_ms:
        head += [f"ms/img {SHORT[s]}" for s in sets]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        row = [r["config"]]
        for s in sets:
            if s == "alphamatting_train_lowres":
                row += [f"{metric(r, s, k):.2f}" for k in ("sad", "grad", "sad_unknown",
                                                               "grad_unknown")]
            else:
                row += [f"{metric(r, s, 'mae'):.4f}", f"{metric(r, s, 'iou'):.4f}"]
        if with_ms:
            row += [f"{set_ms(r, s):.0f}" for s in sets]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def targets(raw: list[dict[str, Any]], default: dict[str, Any],
            decon: dict[str, Any]) -> list[str]:
    general = [r for r in raw if not r["config"].startswith("modnet")]
    am = "alphamatting_train_lowres"
    lines = []
    for pool, name in ((general, "general models"), (raw, "all models incl. modnet")):
        best_sad = min(metric(r, am, "sad") for r in pool)
        best_grad = min(metric(r, am, "grad") for r in pool)
        sad, grad = metric(default, am, "sad"), metric(default, am, "grad")
        lines.append(
            f"- alphamatting vs best raw ({name}): SAD {sad:.2f} vs {best_sad:.2f} "
            f"({100 * (sad / best_sad - 1):+.0f}%, target -30%: "
            f"{'hit' if sad <= 0.7 * best_sad else 'missed'}); gradient {grad:.2f} vs "
            f"{best_grad:.2f} ({100 * (grad / best_grad - 1):+.0f}%, target -30%: "
            f"{'hit' if grad <= 0.7 * best_grad else 'missed'})")
    for s in ("ecssd", "oxford_iiit_pet"):
        best_mae = min(metric(r, s, "mae") for r in general)
        best_iou = max(metric(r, s, "iou") for r in general)
        mae, iou = metric(default, s, "mae"), metric(default, s, "iou")
        ok = mae < best_mae and iou > best_iou
        lines.append(f"- {SHORT[s]}: MAE {mae:.4f} vs best raw {best_mae:.4f}, IoU {iou:.4f} vs "
                     f"best raw {best_iou:.4f}: {'hit' if ok else 'missed'}")
    err = decon["error"]
    plain = err.get("balanced alpha · plain (photo colours)", float("nan"))
    clean = err.get("balanced alpha · blur-fusion (default)", float("nan"))
    lines.append(f"- decontamination: composite error {clean:.2f} vs plain cut-out {plain:.2f}: "
                 f"{'hit' if clean < plain else 'missed'}")
    return lines
