"""Issue 13 outputs, measured: layers on an evaldata flat-lay, and the cost of each step.

    python benchmarks/finishing.py [--models u2netp,u2net] [--mp 12] [--evaldata PATH]

1. Flat-lay (tests/finish/flatlay.py: five ../shared/evaldata ECSSD objects pasted apart):
   per model, the number of layers ``--layers`` finds and each object's IoU (layer alpha > 0.5
   against the pasted mask), plus the same from the true matte.
2. Cost at ``--mp`` megapixels (the sample photo upscaled, its matte from u2netp): CPU and
   wall seconds of compose without finishing, with --feather 20, --shadow drop, --shadow
   contact, of splitting the matte into layers, of the layer PNGs + manifest, and of the PSD,
   each the median of 3 runs side by side. Timings on a loaded machine are noisy: read the
   ratios to the plain compose.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "tests" / "finish")]


def flat_lay(models: list[str], evaldata: Path) -> None:
    from flatlay import build, match

    from alphacut.api import Remover
    from alphacut.core.layers import split_matte

    flat = build(evaldata, 5)
    rows = [("true matte", split_matte(flat.alpha))]
    for model in models:
        rows.append((model, split_matte(Remover(model=model).remove(flat.image).alpha)))
    print(f"flat-lay of {len(flat.objects)} objects ({', '.join(flat.names)})\n")
    print("| matte | layers | IoU per object | min |\n|---|---|---|---|")
    for name, layers in rows:
        ious = match([layer.alpha > 0.5 for layer in layers], flat.objects)
        print(f"| {name} | {len(layers)} | {' '.join(f'{v:.3f}' for v in ious)} | "
              f"{min(ious):.3f} |")


def _median(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def cost(mp: float) -> None:
    import cv2

    from alphacut.api import Remover
    from alphacut.config import Config
    from alphacut.core.layers import layer_files, split_matte
    from alphacut.core.psd import render_psd
    from alphacut.engine.stages import compose
    from alphacut.types import Result, SoftMask

    small = Remover(model="u2netp").remove(ROOT / "examples" / "sample.jpg")
    h, w = small.alpha.shape
    scale = (mp * 1e6 / (h * w)) ** 0.5
    size = (round(w * scale), round(h * scale))
    image = cv2.resize(small.image, size, interpolation=cv2.INTER_CUBIC)
    alpha = np.clip(cv2.resize(small.alpha, size, interpolation=cv2.INTER_CUBIC), 0, 1)
    result = Result(image=image, soft_mask=SoftMask.of(alpha), alpha=alpha,
                    foreground=cv2.resize(small.foreground, size, interpolation=cv2.INTER_CUBIC),
                    meta=small.meta, model=small.model)
    out = {name: Config.build(bg="white", **opts).output for name, opts in {
        "compose (plain)": {}, "compose --feather 20": {"feather": 20},
        "compose --shadow drop": {"shadow": "drop"},
        "compose --shadow contact": {"shadow": "contact"}}.items()}
    cases: dict[str, Callable[[], object]] = {
        name: (lambda o=o: compose(result, o)) for name, o in out.items()}
    cases["split matte into layers"] = lambda: split_matte(alpha)
    cases["layer PNGs + manifest"] = lambda: layer_files(result, Config().output, "x")
    cases["psd (bg + shadow)"] = lambda: render_psd(
        result, Config.build(bg="white", shadow="drop", format="psd").output)
    print(f"\ncost at {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP), median of 3\n")
    print("| step | CPU s | wall s | CPU vs plain compose |\n|---|---|---|---|")
    base = None
    for name, fn in cases.items():
        cpu, wall = _median(fn)
        base = base or cpu
        print(f"| {name} | {cpu:.2f} | {wall:.2f} | {cpu / base:.1f}x |")


def main(argv: list[str] | None = None) -> int:
    from helpers import evaldata

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="u2netp")
    parser.add_argument("--mp", type=float, default=12.0)
    parser.add_argument("--evaldata", type=Path, default=None)
    args = parser.parse_args(argv)
    data = args.evaldata or evaldata()
    if data is None:
        print("no ../shared/evaldata: flat-lay skipped")
    else:
        flat_lay([m for m in args.models.split(",") if m], data)
    cost(args.mp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
