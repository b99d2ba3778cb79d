"""Video benchmark: throughput against the model's own frame rate, fps per model at 480p and
1080p, the people path at 640x360, peak RSS over clip length, and DAVIS J/F/dtSSD.

    python benchmarks/video.py [--sections forward,pipeline,people,rss,davis] [--out DIR]

Clips are built from ../shared/evaldata/davis2016 frames (H.264 MP4 with an AAC tone), so
decode and encode are in every pipeline figure. Everything in one run, side by side: the
machine's other load moves all figures together, the ratios are what to read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "video"))

DAVIS = ROOT.parent / "shared" / "evaldata" / "davis2016"
MODELS = ("u2netp", "u2net", "modnet", "rvm")


def davis_frames(name: str, count: int, size: tuple[int, int] | None = None) -> list[Any]:
    """``count`` frames of a DAVIS sequence (looped), resized to ``size`` (w, h) if given."""
    import cv2
    from PIL import Image

    files = sorted((DAVIS / name / "frames").glob("*.jpg"))
    frames = []
    for i in range(count):
        rgb = np.asarray(Image.open(files[i % len(files)]).convert("RGB"))
        frames.append(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if size else rgb)
    return frames


def make_clip(folder: Path, name: str, seq: str, count: int,
              size: tuple[int, int] | None = None) -> Path:
    from videoclips import write_clip

    path = folder / f"{name}.mp4"
    if not path.exists():
        write_clip(path, davis_frames(seq, count, size))
    return path


PEOPLE: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("rvm", "rvm", {}),
    ("rvm --detail 256", "rvm", {"detail": 256}),
    ("rvm --detail 160", "rvm", {"detail": 160}),
    ("modnet", "modnet", {}),
    ("modnet at 256x256", "modnet-256", {}),
)
"""People-path rows: (label, model, engine options). RVM's speed knob is the engine's own
``detail`` option (RuntimeOptions.detail); MODNet has none, so its smaller input is a
benchmark-only spec (``register_modnet_256``)."""


def register_modnet_256() -> None:
    """MODNet at a 256x256 input (benchmark only: no engine option sizes MODNet's input)."""
    from alphacut.models import registry

    modnet = registry.get_spec("modnet")
    registry._SPECS["modnet-256"] = dataclasses.replace(modnet, name="modnet-256",
                                                        input_size=(256, 256))


def forward_seconds(model: str, rgb: Any, repeats: int = 6, **options: Any
                    ) -> tuple[float, float]:
    """The model's forward pass alone on one frame (all cores): median wall seconds and
    mean process CPU seconds (every thread) per pass."""
    from alphacut.video.api import video_config
    from alphacut.video.frames import FrameEngine

    engine = FrameEngine(video_config({"model": model, **options}))
    engine.load()
    item = engine.prepare(rgb)
    engine.infer(item)
    times = []
    cpu_start = time.process_time()
    for _ in range(repeats):
        start = time.perf_counter()
        engine.infer(item)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), (time.process_time() - cpu_start) / repeats


def pipeline(model: str, clip: Path, out: Path, **options: Any) -> dict[str, Any]:
    """One ``remove_video`` run: steady fps (wall) and process CPU seconds per frame."""
    from alphacut.video import remove_video

    cpu_start = time.process_time()
    report = remove_video(clip, out, model=model, overwrite=True, **options)
    cpu = (time.process_time() - cpu_start) / max(report.frames, 1)
    return {"fps": report.fps, "frames": report.frames, "seconds": report.seconds,
            "cpu_per_frame": cpu, "stages": report.stage_seconds}


def compare(model: str, rgb: Any, clip: Path, out: Path, **options: Any) -> dict[str, Any]:
    """Forward pass alone, then the pipeline, then the forward pass again (the load of a
    shared machine drifts; the two forward figures bracket the pipeline run)."""
    engine_options = {k: v for k, v in options.items() if k in ("detail", "preset")}
    before, cpu_fwd = forward_seconds(model, rgb, **engine_options)
    run = pipeline(model, clip, out, **options)
    after, _ = forward_seconds(model, rgb, **engine_options)
    fwd = (before + after) / 2
    return {"forward_s": fwd, "forward_spread": abs(before - after) / fwd,
            "model_fps": 1 / fwd, "pipeline_fps": run["fps"], "ratio": run["fps"] * fwd,
            "cpu_ratio": cpu_fwd / run["cpu_per_frame"], "cpu_forward": cpu_fwd,
            "cpu_per_frame": run["cpu_per_frame"], "stages": run["stages"]}


SIZES: dict[str, tuple[int, int] | None] = {"480p": None, "1080p": (1920, 1080)}


def section_forward_pipeline(work: Path, models: tuple[str, ...], frames: int,
                             sizes: tuple[str, ...] = tuple(SIZES)) -> list[dict[str, Any]]:
    rows = []
    for label in sizes:
        size = SIZES[label]
        clip = make_clip(work, f"dog-{label}-{frames}", "dog", frames, size)
        rgb = davis_frames("dog", 1, size)[0]
        for model in models:
            rows.append({"model": model, "size": label,
                         **compare(model, rgb, clip, work / f"out-{model}-{label}.webm")})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def section_presets(work: Path, frames: int) -> list[dict[str, Any]]:
    """u2netp at 480p: each preset and filter (off, causal, the default window), webm out,
    side by side."""
    from alphacut.eval.video import mode_temporal

    clip = make_clip(work, f"dog-480p-{frames}", "dog", frames)
    rgb = davis_frames("dog", 1)[0]
    rows = []
    for preset, mode in (("fast", "window"), ("fast", "causal"), ("fast", "per-frame"),
                         ("balanced", "window")):
        rows.append({"preset": preset, "temporal": mode,
                     **compare("u2netp", rgb, clip, work / "presets.webm", preset=preset,
                               temporal=mode_temporal(mode))})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def section_people(work: Path, frames: int) -> list[dict[str, Any]]:
    register_modnet_256()
    clip = make_clip(work, f"dance-360p-{frames}", "dance-twirl", frames, (640, 360))
    rgb = davis_frames("dance-twirl", 1, (640, 360))[0]
    from alphacut.video.temporal import TemporalParams

    live = TemporalParams(lookahead=0)  # the live configuration: the causal filter
    rows = []
    for n, (label, model, options) in enumerate(PEOPLE):
        rows.append({"model": label, "size": "640x360", "temporal": "causal",
                     **compare(model, rgb, clip, work / f"people-{n}.webm", temporal=live,
                               **options)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


RSS_SCRIPT = """
import sys
sys.path.insert(0, {src!r})
from alphacut.video import remove_video
report = remove_video({clip!r}, {out!r}, model="u2netp", overwrite=True)
status = open("/proc/self/status").read()
print(report.frames, status.split("VmHWM:")[1].split()[0])
"""
# VmHWM (this process's own peak), not ru_maxrss: Linux carries ru_maxrss over fork + exec, so
# a child started from a big benchmark process would report the parent's size.


def section_rss(work: Path, fps: int) -> list[dict[str, Any]]:
    """Peak RSS (VmHWM) of a whole run in a fresh process: a 10 s and a 60 s clip, 854x480."""
    from videoclips import write_clip

    rows = []
    for seconds in (10, 60):
        clip = work / f"rss-{seconds}s.mp4"
        if not clip.exists():
            write_clip(clip, davis_frames("dog", seconds * fps), fps=fps)
        code = RSS_SCRIPT.format(src=str(ROOT / "src"), clip=str(clip),
                                 out=str(work / f"rss-{seconds}.webm"))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
        rows.append({"clip_seconds": seconds, "fps": fps, "frames": int(out[0]),
                     "peak_rss_mb": int(out[1]) / 1024})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def section_davis(out: Path, limit: int | None) -> list[dict[str, Any]]:
    from alphacut.eval.video import run_video_eval

    return run_video_eval([DAVIS], out, {"u2netp": {"model": "u2netp"}}, limit=limit)


def section_strip(path: Path, seq: str = "blackswan", start: int = 20, count: int = 5,
                  width: int = 240) -> Path:
    """docs/img/video-strip.png: frames, the matte frame by frame and stabilised, and how
    much each matte changed since the previous frame (bright: flicker) frame by frame, with
    the causal filter and with the default window filter."""
    import cv2
    from PIL import Image, ImageDraw

    from alphacut.eval.video import mode_temporal
    from alphacut.video import iter_video

    mattes: dict[str, list[Any]] = {}
    frames: list[Any] = []
    for mode in ("per-frame", "causal", "window"):
        mattes[mode] = []
        items = iter_video(DAVIS / seq / "frames", temporal=mode_temporal(mode), model="u2netp")
        for item in items:
            if item.frame.index >= start - 1:
                mattes[mode].append(item.result.alpha)
                if mode == "per-frame":
                    frames.append(item.frame.rgb)
            if item.frame.index >= start + count - 1:
                break
        items.close()
    height = round(width * frames[0].shape[0] / frames[0].shape[1])

    def tile(a: Any) -> Any:
        a = a if a.dtype == np.uint8 else np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
        a = a if a.ndim == 3 else np.dstack([a] * 3)
        return cv2.resize(a, (width, height), interpolation=cv2.INTER_AREA)

    def change(ms: list[Any], i: int) -> Any:
        diff = np.clip(np.abs(ms[i] - ms[i - 1]) * 4, 0, 1)  # x4 so small flicker shows
        return cv2.applyColorMap((diff * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]

    rows = [("frame", [tile(f) for f in frames[1:]]),
            ("matte, frame by frame", [tile(m) for m in mattes["per-frame"][1:]]),
            ("matte, stabilised (window, default)", [tile(m) for m in mattes["window"][1:]]),
            *((f"change, {label} (x4)", [tile(change(mattes[mode], i))
                                         for i in range(1, count + 1)])
              for mode, label in (("per-frame", "frame by frame"),
                                  ("causal", "causal filter (--lookahead 0)"),
                                  ("window", "window filter (default)")))]
    label_h = 18
    canvas = Image.new("RGB", (width * count, (height + label_h) * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, tiles) in enumerate(rows):
        y = r * (height + label_h)
        draw.text((4, y + 3), label, fill="black")
        for c, t in enumerate(tiles):
            canvas.paste(Image.fromarray(t), (c * width, y + label_h))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="forward,presets,people,rss,davis")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--sizes", default=",".join(SIZES), help="throughput frame sizes")
    parser.add_argument("--frames", type=int, default=48, help="frames per throughput clip")
    parser.add_argument("--rss-fps", type=int, default=6, help="frame rate of the RSS clips")
    parser.add_argument("--limit", type=int, default=None, help="DAVIS frames per sequence")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "video"))
    args = parser.parse_args()
    if not DAVIS.is_dir():
        print(f"needs {DAVIS}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sections = args.sections.split(",")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="alphacut-video-bench-") as tmp:
        work = Path(tmp)
        if "forward" in sections:
            results["forward"] = section_forward_pipeline(work, tuple(args.models.split(",")),
                                                          args.frames,
                                                          tuple(args.sizes.split(",")))
        if "presets" in sections:
            results["presets"] = section_presets(work, args.frames)
        if "people" in sections:
            results["people"] = section_people(work, args.frames)
        if "rss" in sections:
            results["rss"] = section_rss(work, args.rss_fps)
        if "davis" in sections:
            results["davis"] = section_davis(out, args.limit)
        if "strip" in sections:
            results["strip"] = str(section_strip(ROOT / "docs" / "img" / "video-strip.png"))
    stamp = "-".join(sections)
    (out / f"video-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / f'video-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
