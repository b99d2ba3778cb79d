"""Set-up for the side-by-side benchmark: rembg's own environment, shared weights, test photos,
and measured child processes (wall time and peak RSS)."""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REMBG_SPEC = "rembg[cpu,cli]==2.0.86"


def evaldata_dir(arg: Path | None) -> Path:
    env = os.environ.get("ALPHACUT_EVALDATA")
    path = arg or (Path(env) if env else ROOT.parent / "shared" / "evaldata")
    if not (path / "ecssd" / "images").is_dir():
        raise SystemExit(f"benchmark: evaluation data not found at {path} (--evaldata)")
    return path


def rembg_env(venv: Path) -> Path:
    """Python of rembg's own virtual environment, created on first use."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "rembg").exists():
        print(f"benchmark: installing {REMBG_SPEC} into {venv} (once)", file=sys.stderr)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", REMBG_SPEC], check=True)
    check = subprocess.run([str(python), "-c", "import importlib.util as u; "
                            "print(u.find_spec('torch') is None)"], capture_output=True, text=True)
    if check.stdout.strip() != "True":
        print("benchmark: warning: torch is installed in rembg's environment", file=sys.stderr)
    return python


def model_home(work: Path, models: list[str]) -> Path:
    """``U2NET_HOME`` for rembg: links named as rembg expects, to alphacut's verified files."""
    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights

    home = work / "u2net_home"
    home.mkdir(parents=True, exist_ok=True)
    for name in models:
        source = ensure_weights(get_spec(name))
        link = home / f"{name}.onnx"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source)
    return home


def make_photo(source: Path, target: Path, megapixels: float, grain: float = 0.0) -> Path:
    """Upscale a real photo (Lanczos) to about ``megapixels``, keep its aspect, JPEG q92.

    ``grain`` > 0 adds Gaussian noise of that sigma (in 0..255 levels), like a camera
    sensor's: an upscaled photo is smoother than a real one, which flatters PNG encoders.
    """
    if target.exists():
        return target
    import numpy as np
    from PIL import Image

    with Image.open(source) as im:
        rgb = im.convert("RGB")
        scale = math.sqrt(megapixels * 1e6 / (rgb.width * rgb.height))
        size = (round(rgb.width * scale), round(rgb.height * scale))
        big = rgb.resize(size, Image.Resampling.LANCZOS)
    if grain > 0:
        noise = np.random.default_rng(0).normal(0.0, grain, (size[1], size[0], 1))
        pixels = np.asarray(big, dtype=np.float32) + noise.astype(np.float32)
        big = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))
    target.parent.mkdir(parents=True, exist_ok=True)
    big.save(target, quality=92)
    return target


def landscape_photos(folder: Path) -> list[Path]:
    from PIL import Image

    photos = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as im:
            if im.width > im.height:
                photos.append(path)
    return photos


# ---------------------------------------------------------------- running cases


WRAPPER = (
    "import json, os, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)\n"
    "out = p.stdout.read()\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "wall = time.perf_counter() - start\n"
    "sys.stdout.write(out.decode())\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "print(json.dumps({'rss_mb': usage.ru_maxrss / 1024, 'wall': wall, 'code': code}))\n"
    "sys.exit(code)\n"
)


def measured(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd`` in a wrapper; return its wall time (as the wrapper saw it), RSS, stdout."""
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env, capture_output=True,
                          text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    info = json.loads(lines[-1])
    info["stdout"] = "\n".join(lines[:-1])
    return info


def worker(python: Path | str, script: str, task: dict[str, Any],
           env: dict[str, str]) -> dict[str, Any]:
    info = measured([str(python), str(HERE / script), json.dumps(task)], env)
    result: dict[str, Any] = json.loads(info["stdout"].strip().splitlines()[-1])
    result["rss_mb"] = info["rss_mb"]
    return result


def interleaved_cli_runs(commands: dict[str, tuple[list[str], dict[str, str], Path | None]],
                         repeat: int) -> dict[str, dict[str, Any]]:
    """Each named ``(cmd, env, clean)`` once as a warm-up (page cache, bytecode), then
    ``repeat`` rounds that run every command once, in turn (the machine's drift falls on all
    of them alike); per name, what :func:`cli_runs` returns."""
    for cmd, env, clean in commands.values():
        cli_runs(cmd, env, 1, clean)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, (cmd, env, clean) in commands.items():
            rounds[name].append(cli_runs(cmd, env, 1, clean))
    return {name: {"wall": [r["wall"][0] for r in runs],
                   "wall_median": statistics.median(r["wall"][0] for r in runs),
                   "rss_mb": max(r["rss_mb"] for r in runs)} for name, runs in rounds.items()}


def cli_runs(cmd: list[str], env: dict[str, str], repeat: int,
             clean: Path | None = None) -> dict[str, Any]:
    """Run a CLI ``repeat`` times; ``clean`` (an output folder) is emptied before each run,
    as ``rembg p`` skips outputs that exist."""
    runs = []
    for _ in range(repeat):
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
        runs.append(measured(cmd, env))
    walls = [r["wall"] for r in runs]
    return {"wall": walls, "wall_median": statistics.median(walls),
            "rss_mb": max(r["rss_mb"] for r in runs)}


# ---------------------------------------------------------------- the parts
