"""Evaluation sets on disk: discovery, kind detection, and the samples they hold.

A set is a folder with ``images/<name>.<jpg|png>``, ``masks/<name>.png`` (8-bit grey, same size
as the image), optionally ``trimaps/<name>.png`` (0 background / 128 unknown / 255 foreground)
and ``manifest.csv`` (column ``name``, plus ``image_file``/``mask_file`` relative paths).

Kinds, decided from the data by an explicit rule (first few masks are inspected):

- ``matte``: a ``trimaps/`` folder exists and the masks hold values outside {0, 128, 255}
  (fractional alpha, e.g. alphamatting.com). Scored with SAD/MSE/gradient/connectivity.
- ``mask`` with an ignore band: the masks hold only {0, 128, 255} and each trimap equals its mask
  (Oxford-IIIT Pet). Pixels at 128 are "undecided" and are left out of every metric.
- ``mask``: anything else (binary saliency masks, maybe with an anti-aliased edge).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from alphacut.formats import INPUT_SUFFIXES

Kind = Literal["mask", "matte"]
IGNORE_VALUE = 128
TRIMAP_LEVELS = (0, 128, 255)
IMAGE_SUFFIXES = tuple(sorted(INPUT_SUFFIXES))  # the order images are looked for
_PROBE = 3  # masks inspected to decide the kind


@dataclass(frozen=True)
class Sample:
    """One image with its ground truth.

    - ``gt``: ``uint8 (H, W)`` 0..255, same size as the image.
    - ``trimap``: ``uint8 (H, W)`` with 0/128/255, or ``None``.
    - ``ignore``: ``bool (H, W)``, True where a pixel is left out of the metrics, or ``None``.
    """

    name: str
    image_path: Path
    gt: npt.NDArray[np.uint8]
    trimap: npt.NDArray[np.uint8] | None = None
    ignore: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class Dataset:
    """A discovered set: where it is, what kind of ground truth, and its (name, image, mask)."""

    name: str
    root: Path
    kind: Kind
    ignore_value: int | None
    entries: tuple[tuple[str, Path, Path], ...]

    @property
    def has_trimaps(self) -> bool:
        return (self.root / "trimaps").is_dir()

    def __len__(self) -> int:
        return len(self.entries)

    def samples(self, *, limit: int | None = None) -> Iterator[Sample]:
        """Yield samples in manifest order, loading masks lazily; ``limit`` takes the first N."""
        entries = self.entries if limit is None else self.entries[:limit]
        for name, image_path, mask_path in entries:
            yield self._load(name, image_path, mask_path)

    def sample(self, name: str) -> Sample:
        """Load one sample by name (KeyError if the set has no such name)."""
        for entry_name, image_path, mask_path in self.entries:
            if entry_name == name:
                return self._load(entry_name, image_path, mask_path)
        raise KeyError(f"{self.name} has no sample {name!r}")

    def _load(self, name: str, image_path: Path, mask_path: Path) -> Sample:
        gt = read_gray(mask_path)
        trimap_path = self.root / "trimaps" / mask_path.name
        trimap = read_gray(trimap_path) if trimap_path.is_file() else None
        ignore = gt == self.ignore_value if self.ignore_value is not None else None
        return Sample(name=name, image_path=image_path, gt=gt, trimap=trimap, ignore=ignore)


def read_gray(path: Path) -> npt.NDArray[np.uint8]:
    """Read an 8-bit grey image as ``uint8 (H, W)``; colour files use their first channel."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode in ("RGB", "RGBA", "P"):
            im = im.convert("RGB").getchannel(0)
        elif im.mode != "L":
            im = im.convert("L")
        return np.asarray(im, dtype=np.uint8).copy()


def read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """Read an image as ``uint8 (H, W, 3)`` RGB (EXIF orientation not applied, like the masks)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def discover(root: str | Path, *, kind: Kind | None = None) -> Dataset:
    """Open the set at ``root``; ``kind`` overrides detection. Raises FileNotFoundError."""
    root = Path(root)
    if not (root / "images").is_dir() or not (root / "masks").is_dir():
        raise FileNotFoundError(f"{root} is not an evaluation set (needs images/ and masks/)")
    entries = _entries(root)
    if not entries:
        raise FileNotFoundError(f"{root} holds no image/mask pairs")
    detected, ignore_value = detect_kind(root, [mask for _, _, mask in entries[:_PROBE]])
    return Dataset(name=root.name, root=root, kind=kind or detected,
                   ignore_value=ignore_value, entries=tuple(entries))


def detect_kind(root: Path, masks: list[Path]) -> tuple[Kind, int | None]:
    """Apply the module's rule to a few masks: (kind, ignore value or None)."""
    trimaps = root / "trimaps"
    if not trimaps.is_dir():
        return "mask", None
    values: set[int] = set()
    trimaps_equal = True
    for mask_path in masks:
        gt = read_gray(mask_path)
        values.update(int(v) for v in np.unique(gt))
        trimap_path = trimaps / mask_path.name
        trimaps_equal &= trimap_path.is_file() and np.array_equal(read_gray(trimap_path), gt)
    if values <= set(TRIMAP_LEVELS):
        return "mask", (IGNORE_VALUE if trimaps_equal and IGNORE_VALUE in values else None)
    return "matte", None


def _entries(root: Path) -> list[tuple[str, Path, Path]]:
    manifest = root / "manifest.csv"
    if manifest.is_file():
        return _entries_from_manifest(root, manifest)
    return _entries_from_folders(root)


def _entries_from_manifest(root: Path, manifest: Path) -> list[tuple[str, Path, Path]]:
    entries = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["name"]
            image = root / row["image_file"] if row.get("image_file") else _find_image(root, name)
            mask = root / (row.get("mask_file") or f"masks/{name}.png")
            if image is not None and image.is_file() and mask.is_file():
                entries.append((name, image, mask))
    return entries


def _entries_from_folders(root: Path) -> list[tuple[str, Path, Path]]:
    entries = []
    for mask in sorted((root / "masks").glob("*.png")):
        image = _find_image(root, mask.stem)
        if image is not None:
            entries.append((mask.stem, image, mask))
    return entries


def _find_image(root: Path, name: str) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        path = root / "images" / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def find_datasets(base: str | Path) -> list[Path]:
    """Every set folder directly under ``base`` (those with images/ and masks/), sorted."""
    base = Path(base)
    return sorted(p for p in base.iterdir() if (p / "images").is_dir() and (p / "masks").is_dir())
