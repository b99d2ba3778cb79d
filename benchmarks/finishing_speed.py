"""Cost of the output stage's layout and colour steps at 12 MP, beside the old compose.

    python benchmarks/finishing_speed.py [--repeat 5]

A fixture photo and its mask (tests/fixtures/pets/shiba_inu_208) upscaled to 3000 x 4000 with
Lanczos stand in for a camera photo's Result (no model: this times the output stage only).
Each case runs ``engine.stages.compose`` ``--repeat`` times, interleaved with the old compose
(composite the whole photo, then crop: main before issue #13) where that applies; medians of
wall and CPU time (``time.process_time``, all threads) are printed side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from alphacut.config import Config  # noqa: E402
from alphacut.core import composite  # noqa: E402
from alphacut.engine.stages import compose  # noqa: E402
from alphacut.types import ImageMeta, Result, SoftMask  # noqa: E402

PET = ROOT / "tests" / "fixtures" / "pets" / "shiba_inu_208"
CASES: dict[str, dict[str, Any]] = {
    "transparent": {},
    "crop": {"crop": True, "crop_margin": 16},
    "white + crop": {"bg": "white", "crop": True, "crop_margin": 16},
    "white, 2000x2000, scale 80%, bottom": {"bg": "white", "size": "2000x2000", "scale": "80%",
                                            "position": "bottom"},
    "crop, margin 5%, 1000x1000, scale 90%": {"bg": "white", "crop": True,
                                              "crop_margin": "5%", "size": "1000x1000",
                                              "scale": "90%"},
    "colour + match_colour 0.3": {"bg": "#2040c0", "match_colour": 0.3},
}


def photo_result(height: int = 4000, width: int = 3000) -> Result:
    rgb = np.asarray(Image.open(f"{PET}.jpg").convert("RGB"))
    mask = np.asarray(Image.open(f"{PET}.mask.png").convert("L"))
    fg = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LANCZOS4)
    alpha = cv2.resize((mask > 0).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_LINEAR)
    return Result(image=fg, soft_mask=SoftMask.of(alpha), alpha=alpha, foreground=fg,
                  meta=ImageMeta(width, height), model="fixture")


def old_compose(result: Result, options: dict[str, Any]) -> np.ndarray | None:
    """main's compose before issue #13 (composite, then crop), or None if it had no such
    option."""
    if set(options) - {"bg", "crop", "crop_margin"}:
        return None
    output = Config.build(**options).output
    if output.bg_color is not None:
        pixels = composite.over_color(result.foreground, result.alpha, output.bg_color)
    else:
        pixels = result.rgba
    if output.crop:
        pixels = composite.crop(pixels, composite.subject_box(result.alpha, 16))
    return pixels


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    result = photo_result()
    print(f"{'case':40s} {'new wall':>9s} {'new cpu':>8s} {'old wall':>9s} {'old cpu':>8s}")
    for name, options in CASES.items():
        output = Config.build(**options).output
        has_old = old_compose(result, options) is not None
        new, old = [], []
        for _ in range(args.repeat):  # interleaved: both see the same load
            new.append(timed(compose, result, output))
            if has_old:
                old.append(timed(old_compose, result, options))
        cells = [f"{statistics.median(t[i] for t in new) * 1000:7.0f}ms" for i in (0, 1)]
        cells += ([f"{statistics.median(t[i] for t in old) * 1000:7.0f}ms" for i in (0, 1)]
                  if has_old else ["-", "-"])
        print(f"{name:40s} {cells[0]:>9s} {cells[1]:>8s} {cells[2]:>9s} {cells[3]:>8s}")


if __name__ == "__main__":
    main()
