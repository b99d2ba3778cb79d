"""``--layers``: each separate subject of the matte on its own transparent layer.

Subjects are the 8-connected components of ``alpha >= THRESHOLD``. Components smaller than
``min_area`` (``MIN_AREA_FRACTION`` of the image, at least ``MIN_AREA_PIXELS``) are specks,
not subjects: every pixel of the matte (specks, hair and soft edge below the threshold) goes
to the nearest subject if it is within ``reach`` (``REACH_FRACTION`` of the image's long side,
at least ``MIN_REACH`` px) of it, and is dropped otherwise. So the layers never overlap, stack
in place, and add up to the matte less the far specks. Layers are numbered from 1 in reading
order: rows of boxes top to bottom (a box joins a row when its top is above the middle of the
row's first box), left to right within a row. Feather and layout (crop, size, ...) apply to
the whole matte before it is split, so the layers share the PNG cut-out's canvas.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphacut.types import RGBA, Alpha, Result

THRESHOLD = 0.5
MIN_AREA_FRACTION = 0.001
MIN_AREA_PIXELS = 64
REACH_FRACTION = 0.02
MIN_REACH = 8.0
BOX_THRESHOLD = 0.05  # a layer's box holds its pixels above this alpha (as --crop does)


@dataclass(frozen=True)
class Layer:
    """One subject: ``index`` from 1, ``box`` (x, y, width, height) of its pixels with alpha
    above BOX_THRESHOLD, ``area`` its pixels with alpha >= THRESHOLD, ``alpha`` its full-size
    matte ``float32 (H, W)`` in [0, 1] (zero outside the subject)."""

    index: int
    box: tuple[int, int, int, int]
    area: int
    alpha: Alpha


def split_matte(alpha: Alpha, *, threshold: float = THRESHOLD,
                min_area: int | None = None, reach: float | None = None) -> list[Layer]:
    """The matte ``float32 (H, W)`` split into one Layer per subject, in reading order."""
    import cv2

    h, w = alpha.shape
    min_area = min_area if min_area is not None else max(MIN_AREA_PIXELS,
                                                         round(MIN_AREA_FRACTION * h * w))
    reach = reach if reach is not None else max(MIN_REACH, REACH_FRACTION * max(h, w))
    solid = (alpha >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    big = [k for k in range(1, count) if stats[k, cv2.CC_STAT_AREA] >= min_area]
    if not big:
        return []
    owner, distance = _nearest_subject(labels, big)
    keep = (distance <= reach) & (alpha > 0)
    mattes = [np.where(keep & (owner == n), alpha, 0).astype(np.float32)
              for n in range(len(big))]
    boxes = [_box(m) for m in mattes]
    order = reading_order(boxes)
    return [Layer(i + 1, boxes[k], int(np.count_nonzero(mattes[k] >= threshold)), mattes[k])
            for i, k in enumerate(order)]


def _nearest_subject(labels: np.ndarray, big: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel: (index into ``big`` of the nearest subject ``int32 (H, W)``, its
    Euclidean distance ``float32 (H, W)``, 0 on the subject)."""
    import cv2

    subject = np.zeros(labels.shape, np.int32)
    for n, k in enumerate(big):
        subject[labels == k] = n + 1
    seeds = subject > 0
    distance, nearest = cv2.distanceTransformWithLabels(
        np.where(seeds, 0, 255).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5,
        labelType=cv2.DIST_LABEL_PIXEL)
    lookup = np.zeros(int(nearest.max()) + 1, np.int32)
    lookup[nearest[seeds]] = subject[seeds] - 1
    return lookup[nearest], distance


def _box(alpha: Alpha) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the pixels with alpha above BOX_THRESHOLD."""
    on = alpha > BOX_THRESHOLD
    rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1),
            int(rows[-1] - rows[0] + 1))


def reading_order(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """Indices of ``boxes`` (x, y, width, height) in reading order: rows top to bottom,
    left to right in a row."""
    order = sorted(range(len(boxes)), key=lambda k: (boxes[k][1], boxes[k][0]))
    rows: list[list[int]] = []
    for k in order:
        if rows:
            first = boxes[rows[-1][0]]
            if boxes[k][1] < first[1] + first[3] / 2:
                rows[-1].append(k)
                continue
        rows.append([k])
    return [k for row in rows for k in sorted(row, key=lambda k: boxes[k][0])]


# ------------------------------------------------------------------ a Result's layers


def result_layers(result: Result, output: Any = None) -> list[Layer]:
    """The layers of a Result's matte, after ``--feather`` and the layout (crop, size, ...)
    when ``output`` asks for them (``layer_rgba`` then needs ``laid_out(result, output)``)."""
    from alphacut.core.finish.steps import laid_out

    return split_matte(result.alpha if output is None else laid_out(result, output).alpha)


def layer_rgba(result: Result, layer: Layer) -> RGBA:
    """One layer as a full-size cut-out, ``uint8 (H, W, 4)`` (clean colours, its alpha)."""
    from alphacut.core.cutout import cutout

    return cutout(result.foreground, layer.alpha)


def layer_name(stem: str, index: int) -> str:
    return f"{stem}-{index}.png"


def manifest_name(stem: str) -> str:
    return f"{stem}-layers.json"


def manifest(layers: list[Layer], stem: str, width: int, height: int) -> dict[str, Any]:
    """The JSON document beside the layers: image size and each layer's file, box, area."""
    return {"width": width, "height": height, "threshold": THRESHOLD, "layers": [
        {"index": layer.index, "file": layer_name(stem, layer.index),
         "box": dict(zip(("x", "y", "width", "height"), layer.box, strict=True)),
         "area": layer.area} for layer in layers]}


def layer_files(result: Result, output: Any, stem: str) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every layer PNG, then of the JSON manifest."""
    from alphacut.core.encode import encode
    from alphacut.core.finish.steps import laid_out

    level = getattr(output, "png_compress_level", 1)
    icc = result.meta.icc_profile
    result = laid_out(result, output)  # feather and layout: the layers stack on its canvas
    layers = split_matte(result.alpha)
    files = [(layer_name(stem, layer.index),
              encode(layer_rgba(result, layer), "png", icc_profile=icc,
                     png_compress_level=level)) for layer in layers]
    height, width = result.alpha.shape
    doc = json.dumps(manifest(layers, stem, width, height), indent=2).encode() + b"\n"
    return [*files, (manifest_name(stem), doc)]


def zip_files(files: list[tuple[str, bytes]]) -> bytes:
    """A zip of (name, bytes) entries, stored (PNGs are compressed already), fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files:
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def render_zip(result: Result, output: Any, stem: str = "layer") -> bytes:
    """Every layer PNG and the manifest of ``result``, as one zip."""
    return zip_files(layer_files(result, output, stem))


def manifest_path(dest: Path) -> Path:
    """``{stem}-layers.json`` beside the planned output ``dest``."""
    return dest.with_name(manifest_name(dest.stem))


def write_layers(result: Result, output: Any, dest: Path,
                 refuse: Iterable[Path] = ()) -> list[Path]:
    """Write every layer PNG and the manifest for the planned output ``dest`` (which itself is
    not written), each atomically, the manifest last; ``OutputError`` if one would replace a
    file in ``refuse`` (the inputs). Layers an earlier manifest there listed beyond this run's
    are removed, so the folder matches the new manifest. Returns the paths written."""
    from alphacut.core.encode import write_atomic
    from alphacut.errors import OutputError

    files = layer_files(result, output, dest.stem)
    paths = [dest.with_name(name) for name, _ in files]
    protected = {p.resolve() for p in refuse}
    for path in paths:
        if path.resolve() in protected:
            raise OutputError(f"{path}: refusing to overwrite an input file")
    stale = _stale_layers(manifest_path(dest), {p.name for p in paths}, dest.stem)
    for path, (_, data) in zip(paths, files, strict=True):
        write_atomic(path, data)
    for path in stale:  # an earlier run's extra layers, listed in the manifest just replaced
        if path.resolve() not in protected:
            with contextlib.suppress(OSError):
                path.unlink()
    return paths


def _stale_layers(manifest: Path, keep: set[str], stem: str) -> list[Path]:
    """Layer files an existing manifest lists that this run does not write: only names of
    the form ``{stem}-{n}.png`` beside it (anything else in a manifest is left alone)."""
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        names = [str(entry["file"]) for entry in doc["layers"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    pattern = re.compile(re.escape(stem) + r"-[1-9][0-9]*\.png")
    return [manifest.with_name(n) for n in names if pattern.fullmatch(n) and n not in keep]
