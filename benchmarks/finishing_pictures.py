"""Before/after pictures of the finishing outputs (issue 13) for docs/outputs.md.

    python benchmarks/finishing_pictures.py [--model u2netp] [--out docs/img]

From the bundled fixture photos only (examples/sample.jpg and tests/fixtures/pets: Oxford-IIIT
Pet, CC BY-SA 4.0, see tests/fixtures/ATTRIBUTION.md), with the real model. Writes
finish-feather.png, finish-shadow-drop.png, finish-shadow-contact.png, finish-layers.png and
finish-psd.png, each a strip of labelled panels over one colour, at most 150 KB (colours are
quantised when a picture would be larger). Prints each file's size.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from alphacut.api import Remover  # noqa: E402
from alphacut.config import Config  # noqa: E402
from alphacut.core.layers import split_matte  # noqa: E402
from alphacut.engine.stages import compose  # noqa: E402

BACKDROP = "#dfe6ee"
PANEL = 300  # panel height, px
MAX_BYTES = 150_000
TINTS = [(230, 80, 60), (60, 140, 230), (70, 180, 90), (220, 170, 40)]


def panel(pixels: np.ndarray, label: str) -> Image.Image:
    """A panel ``PANEL`` px high with ``label`` written on a strip at its foot."""
    image = Image.fromarray(pixels).convert("RGB")
    image = image.resize((round(image.width * PANEL / image.height), PANEL), Image.LANCZOS)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, PANEL - 18, image.width, PANEL), fill=(255, 255, 255))
    draw.text((6, PANEL - 15), label, fill=(20, 20, 20))
    return image


def strip(panels: list[Image.Image]) -> Image.Image:
    gap = 6
    width = sum(p.width for p in panels) + gap * (len(panels) - 1)
    out = Image.new("RGB", (width, PANEL), (255, 255, 255))
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + gap
    return out


def save_small(image: Image.Image, path: Path) -> int:
    """PNG at most MAX_BYTES: full colour if it fits, else quantised to fewer colours."""
    for colours in (None, 256, 128, 64):
        buf = io.BytesIO()
        (image if colours is None else image.quantize(colours)).save(buf, "PNG", optimize=True)
        if buf.tell() <= MAX_BYTES:
            break
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def over(result, **options: object) -> np.ndarray:  # type: ignore[no-untyped-def]
    return compose(result, Config.build(bg=BACKDROP, **options).output)


def checker(height: int, width: int, cell: int = 12) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    light = ((yy // cell + xx // cell) % 2 == 0)[..., None]
    return np.where(light, 235, 200).astype(np.uint8).repeat(3, axis=2)


def flat_lay(pets: list[Path]) -> np.ndarray:
    """The pet fixtures cut by their masks, side by side on a plain backdrop."""
    height = 300
    canvas = np.full((height + 40, 40 + len(pets) * 260, 3), (228, 224, 216), np.float32)
    x = 20
    for pet in pets:
        photo = Image.open(pet).convert("RGB")
        mask = Image.open(pet.with_name(pet.stem + ".mask.png")).convert("L")
        scale = 240 / max(photo.size)
        size = (round(photo.width * scale), round(photo.height * scale))
        rgb = np.asarray(photo.resize(size, Image.LANCZOS), np.float32)
        # the masks' 128 band is "undecided": only the sure pet (255) is pasted
        m = (np.asarray(mask.resize(size, Image.NEAREST)) == 255)[..., None].astype(np.float32)
        y = 20 + (height - size[1]) // 2
        region = canvas[y:y + size[1], x:x + size[0]]
        canvas[y:y + size[1], x:x + size[0]] = rgb * m + region * (1 - m)
        x += 260
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def layers_picture(remover: Remover, pets: list[Path]) -> Image.Image:
    photo = flat_lay(pets)
    result = remover.remove(photo)
    layers = split_matte(result.alpha)
    h, w = result.alpha.shape
    tinted = checker(h, w).astype(np.float32)
    for layer, tint in zip(layers, TINTS, strict=False):
        a = layer.alpha[..., None]
        tinted = tinted * (1 - 0.6 * a) + np.float32(tint) * 0.6 * a
    panels = [panel(photo, "flat-lay photo"),
              panel(np.clip(tinted, 0, 255).astype(np.uint8),
                    f"--layers: {len(layers)} layers, one colour each")]
    return strip(panels)


def psd_picture(remover: Remover, sample: Path) -> Image.Image:
    from alphacut.core.cutout import alpha_to_u8
    from alphacut.core.finish.steps import shadow_of

    result = remover.remove(sample)
    output = Config.build(bg=BACKDROP, shadow="contact", format="psd").output
    shade = shadow_of(result.alpha, output)
    h, w = result.alpha.shape
    bg = np.empty((h, w, 3), np.uint8)
    bg[...] = Image.new("RGB", (1, 1), BACKDROP).getpixel((0, 0))
    shadow = (checker(h, w) * (1 - shade[..., None])).astype(np.uint8)
    mask = np.repeat(alpha_to_u8(result.alpha)[..., None], 3, axis=2)
    return strip([panel(bg, "1 Background"), panel(shadow, "2 Shadow"),
                  panel(result.image, "3 Photo ..."), panel(mask, "... + layer mask"),
                  panel(over(result, shadow="contact"), "composite")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    remover = Remover(model=args.model)
    sample = ROOT / "examples" / "sample.jpg"
    pets = sorted((ROOT / "tests" / "fixtures" / "pets").glob("*.jpg"))
    result = remover.remove(sample)
    pictures = {
        "finish-feather.png": strip([panel(over(result), "without"),
                                     panel(over(result, feather=15), "--feather 15")]),
        "finish-shadow-drop.png": strip([panel(over(result), "without"),
                                         panel(over(result, shadow="drop"), "--shadow drop")]),
        "finish-shadow-contact.png": strip([
            panel(over(result), "without"),
            panel(over(result, shadow="contact", shadow_opacity=0.7),
                  "--shadow contact --shadow-opacity 0.7")]),
        "finish-layers.png": layers_picture(remover, pets[:3]),
        "finish-psd.png": psd_picture(remover, sample),
    }
    for name, image in pictures.items():
        size = save_small(image, args.out / name)
        print(f"{name}: {image.width}x{image.height}, {size / 1000:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
