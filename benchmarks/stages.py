"""Per-stage wall times of one photo with each model, end to end through the library.

    python benchmarks/stages.py [--megapixels 12] [--repeat 3] [--models u2netp,u2net,...]

The photo is a real one (examples/sample.jpg) upscaled with Lanczos to the size asked for.
Prints a Markdown table: median seconds per stage over ``--repeat`` warm runs.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
from pathlib import Path

from PIL import Image

from alphacut.engine.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]


def make_photo(megapixels: float) -> bytes:
    """The sample photo upscaled to about ``megapixels`` MP, as JPEG bytes (quality 92)."""
    im = Image.open(ROOT / "examples" / "sample.jpg").convert("RGB")
    scale = (megapixels * 1e6 / (im.width * im.height)) ** 0.5
    big = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def time_model(name: str, photo: bytes, repeat: int, preset: str | None) -> dict[str, float]:
    from alphacut.api import Remover

    remover = Remover(model=name, preset=preset)
    remover.process(photo)  # warm-up: session, first-call allocations
    runs = []
    for _ in range(repeat):
        result, _ = remover.process(photo)
        runs.append(result.timings)
    return {s: statistics.median(r.get(s, 0.0) for r in runs) for s in STAGES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--models", default="u2netp,u2net,isnet-general-q,isnet-general,modnet")
    args = parser.parse_args(argv)
    photo = make_photo(args.megapixels)
    size = Image.open(io.BytesIO(photo)).size
    print(f"photo {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP), preset "
          f"{args.preset or 'default'}, median of {args.repeat} warm runs, seconds")
    print("| model | " + " | ".join(STAGES) + " | total | non-infer % of infer |")
    print("|---" * (len(STAGES) + 3) + "|")
    for name in args.models.split(","):
        t = time_model(name, photo, args.repeat, args.preset)
        total = sum(t.values())
        overhead = (total - t["infer"]) / t["infer"] * 100
        cells = " | ".join(f"{t[s]:.3f}" for s in STAGES)
        print(f"| {name} | {cells} | {total:.2f} | {overhead:.0f}% |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
