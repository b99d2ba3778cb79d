"""A flat-lay test picture: several ../shared/evaldata objects pasted apart on one canvas.

Each object is an ECSSD photo cut by its ground-truth mask (kept only when the mask is one
main blob), scaled to fit a grid cell and pasted on a plain, lightly textured backdrop, so
the composite's true matte is known object by object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CANVAS = (720, 1080)  # height, width
GRID = (2, 3)
CELL_FILL = 0.7  # an object's longer side, as a fraction of its cell's shorter side


@dataclass
class FlatLay:
    """``image`` ``uint8 (H, W, 3)``; ``alpha`` the true matte ``float32 (H, W)``;
    ``objects`` one ``bool (H, W)`` mask per pasted object (mask > 0.5), in grid order."""

    image: np.ndarray
    alpha: np.ndarray
    objects: list[np.ndarray]
    names: list[str]


def one_blob(mask: np.ndarray) -> bool:
    """True when the largest 8-connected part holds >= 98% of the mask's pixels, and the
    object is neither tiny nor filling its frame."""
    solid = (mask > 127).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if count < 2:
        return False
    areas = stats[1:, cv2.CC_STAT_AREA]
    frame = solid.sum() / solid.size
    return bool(areas.max() >= 0.98 * areas.sum() and 0.05 < frame < 0.6)


def pick(evaldata: Path, count: int) -> list[tuple[Path, Path]]:
    """The first ``count`` ECSSD (photo, mask) pairs whose mask is one main blob."""
    folder = evaldata / "ecssd"
    pairs = []
    for photo in sorted((folder / "images").glob("*.jpg")):
        mask = folder / "masks" / (photo.stem + ".png")
        if mask.exists() and one_blob(np.asarray(Image.open(mask).convert("L"))):
            pairs.append((photo, mask))
        if len(pairs) == count:
            break
    return pairs


def build(evaldata: Path, count: int = 5, seed: int = 0) -> FlatLay:
    """The flat-lay of the first ``count`` (<= 6) one-blob ECSSD objects."""
    rng = np.random.default_rng(seed)
    height, width = CANVAS
    backdrop = np.full((height, width, 3), (232, 228, 220), np.float32)
    backdrop += rng.normal(0, 3, (height, width, 1)).astype(np.float32)
    image, alpha = backdrop.copy(), np.zeros((height, width), np.float32)
    objects, names = [], []
    cell_h, cell_w = height // GRID[0], width // GRID[1]
    for n, (photo_path, mask_path) in enumerate(pick(evaldata, count)):
        photo, mask = _cut(photo_path, mask_path, round(CELL_FILL * min(cell_h, cell_w)))
        row, col = divmod(n, GRID[1])
        y = row * cell_h + (cell_h - mask.shape[0]) // 2
        x = col * cell_w + (cell_w - mask.shape[1]) // 2
        box = (slice(y, y + mask.shape[0]), slice(x, x + mask.shape[1]))
        m = mask[..., None]
        image[box] = photo * m + image[box] * (1 - m)
        alpha[box] = np.maximum(alpha[box], mask)
        placed = np.zeros((height, width), bool)
        placed[box] = mask > 0.5
        objects.append(placed)
        names.append(photo_path.stem)
    pixels = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    return FlatLay(pixels, alpha, objects, names)


def _cut(photo_path: Path, mask_path: Path, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The object's box of photo ``float32 (h, w, 3)`` and mask ``float32 (h, w)`` in [0, 1],
    scaled so the longer side is ``side``."""
    photo = np.asarray(Image.open(photo_path).convert("RGB"), np.float32)
    mask = np.asarray(Image.open(mask_path).convert("L"), np.float32) / 255.0
    ys, xs = np.nonzero(mask > 0.5)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    scale = side / max(y1 - y0, x1 - x0)
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    photo = cv2.resize(photo[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
    return photo, np.clip(mask, 0.0, 1.0)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


def match(layers: list[np.ndarray], objects: list[np.ndarray]) -> list[float]:
    """For each object, the best IoU of any layer's ``alpha > 0.5`` against it."""
    return [max((iou(layer, obj) for layer in layers), default=0.0) for obj in objects]
