"""README pictures of the layout and colour options (issue #13 item 4): "without | with".

    python benchmarks/layout_pictures.py [--model u2net] [--out docs/img] [--height 300]

The bundled sample photo (examples/sample.jpg, Oxford-IIIT Pet samoyed_32, CC BY-SA 4.0: see
tests/fixtures/ATTRIBUTION.md) is cut out once with the real model; each picture renders the
same result with and without one option, over a colour, through the engine's own ``compose``
(so the pictures show exactly what the CLI writes). Each file is quantised to 256 colours to
stay under 150 KB; the script prints each file's size and fails if one is over.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from alphacut.config import Config  # noqa: E402
from alphacut.engine.stages import compose  # noqa: E402
from alphacut.types import Result  # noqa: E402

PHOTO = ROOT / "examples" / "sample.jpg"  # samoyed_32, Oxford-IIIT Pet: see ATTRIBUTION.md
MAX_BYTES = 150_000
GAP = 12
CAPTION = 26
PAPER = (250, 250, 250)


@dataclass(frozen=True)
class Picture:
    """One README picture: the options of each side, their captions, an optional zoom box
    (y0, y1, x0, x1 as fractions of the rendered picture)."""

    name: str
    without: dict[str, Any]
    with_: dict[str, Any]
    captions: tuple[str, str]
    zoom: tuple[float, float, float, float] | None = None


BG = "#6f8fae"
PICTURES = [
    Picture("match-colour", {"bg": "#d9822b"}, {"bg": "#d9822b", "match_colour": 0.3},
            ("without", "--match-colour 0.3")),
    Picture("layout", {"bg": BG}, {"bg": BG, "size": "800x800", "scale": "80%",
                                   "position": "bottom"},
            ("without", "--size 800x800 --scale 80% --position bottom")),
    Picture("crop-margin", {"bg": BG, "crop": True, "crop_margin": 0},
            {"bg": BG, "crop": True, "crop_margin": "5% 20%"},
            ("--crop --crop-margin 0", "--crop --crop-margin '5% 20%'")),
]


def cut_out(model: str) -> Result:
    """The fixture photo through the real model (default preset)."""
    from alphacut.api import Remover

    remover = Remover(model=model)
    remover.load()
    return remover.remove(PHOTO)


def panel(result: Result, options: dict[str, Any], height: int,
          zoom: tuple[float, float, float, float] | None) -> Image.Image:
    """One side: the engine's output for ``options``, maybe zoomed, ``height`` px tall."""
    pixels = compose(result, Config.build(**options).output)
    image = Image.fromarray(pixels).convert("RGB")
    if zoom is not None:
        w, h = image.size
        y0, y1, x0, x1 = zoom
        image = image.crop((round(x0 * w), round(y0 * h), round(x1 * w), round(y1 * h)))
    w, h = image.size
    return image.resize((max(1, round(w * height / h)), height), Image.Resampling.LANCZOS)


def side_by_side(left: Image.Image, right: Image.Image, captions: tuple[str, str]
                 ) -> Image.Image:
    """Two panels with a gap and a caption under each."""
    height = left.height
    sheet = Image.new("RGB", (left.width + right.width + 3 * GAP, height + CAPTION + 2 * GAP),
                      PAPER)
    sheet.paste(left, (GAP, GAP))
    sheet.paste(right, (2 * GAP + left.width, GAP))
    draw = ImageDraw.Draw(sheet)
    font = _font()
    for text, x0, width in ((captions[0], GAP, left.width),
                            (captions[1], 2 * GAP + left.width, right.width)):
        length = draw.textlength(text, font=font)
        draw.text((x0 + (width - length) / 2, GAP + height + 6), text, fill=(40, 40, 40),
                  font=font)
    return sheet


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=15)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def save_small(sheet: Image.Image, path: Path) -> int:
    """Write ``sheet`` as a 256-colour PNG, atomically; its size in bytes."""
    quantised = sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                               dither=Image.Dither.NONE)
    tmp = path.with_suffix(".tmp.png")
    quantised.save(tmp, optimize=True)
    tmp.replace(path)
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="u2net")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--height", type=int, default=300)
    args = parser.parse_args(argv)
    result = cut_out(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    too_big = []
    for picture in PICTURES:
        left = panel(result, picture.without, args.height, picture.zoom)
        right = panel(result, picture.with_, args.height, picture.zoom)
        path = args.out / f"finishing-{picture.name}.png"
        size = save_small(side_by_side(left, right, picture.captions), path)
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{size / 1000:.1f} KB")
        if size > MAX_BYTES:
            too_big.append(path.name)
    if too_big:
        print(f"over {MAX_BYTES // 1000} KB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
