"""Touch-up strokes: "keep" and "remove" marks that become hard constraints of the matting solve.

A stroke is given either as a picture the size of the photo (white = keep, black = remove,
any other colour or a transparent pixel = no constraint; another size is scaled to the photo)
or as JSON polylines in photo pixels::

    {"keep": [[[x, y], [x, y], ...], ...], "remove": [[[x, y], ...], ...], "width": 12}

(a polyline may also be ``{"points": [[x, y], ...], "width": px}``, with its own pen width,
as the page's brush sends them).

As in Levin et al.'s scribbles, a keep pixel is known alpha 1 and a remove pixel known alpha 0,
and the pixels around each stroke become unknown, so the closed-form solve re-decides the whole
neighbourhood between the stroke and the real edge from the photo's colours (matting.py): one
stroke fixes a region and the edge next to it stays soft.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alphacut.errors import AlphacutError, InvalidOption

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    BoolMap = npt.NDArray[np.bool_]
    F32 = npt.NDArray[np.float32]
    U8 = npt.NDArray[np.uint8]
    Mask = F32

DEFAULT_WIDTH = 12.0  # px, when the JSON gives none
MAX_WIDTH = 2000.0
MAX_POINTS = 100_000  # all polylines together: a bound on the raster work a request costs
WHITE, BLACK = 200, 55  # a stroke picture's pixel is keep at or above / remove at or below
MAX_ASPECT_CHANGE = 0.05  # a stroke picture may be scaled, not stretched by more than this


Line = tuple[tuple[tuple[float, float], ...], float]  # (x, y) points in photo px, pen width


@dataclass(frozen=True)
class Polylines:
    """Parsed JSON strokes: each line its points and pen width; ``width`` the default pen."""

    keep: tuple[Line, ...]
    remove: tuple[Line, ...]
    width: float = DEFAULT_WIDTH


@dataclass(frozen=True)
class StrokeMap:
    """Rasterised strokes, ``bool (H, W)`` each: pixels marked keep, pixels marked remove."""

    keep: BoolMap
    remove: BoolMap

    @property
    def any(self) -> bool:
        return bool(self.keep.any() or self.remove.any())

    @property
    def marked(self) -> BoolMap:
        return self.keep | self.remove


def is_json(value: str) -> bool:
    """A ``strokes`` string is JSON when it starts with ``{`` or ``[`` (else a picture's path)."""
    return value.lstrip()[:1] in ("{", "[")


def check_strokes(value: Any) -> None:
    """Raise ``InvalidOption`` unless ``value`` is None, JSON polylines, a path or image bytes.

    Cheap (no image is read): JSON is parsed and checked; a path must be a non-empty string.
    """
    if value is None or isinstance(value, (bytes, bytearray)):
        return
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise InvalidOption("strokes must be a stroke picture's path, picture bytes or a JSON "
                            f"string of polylines, not {type(value).__name__}")
    if is_json(value):
        parse_polylines(value)
    elif not value.strip():
        raise InvalidOption("strokes must not be empty")


def parse_polylines(text: str) -> Polylines:
    """``{"keep": [[[x, y], ...], ...], "remove": [...], "width": px}`` -> :class:`Polylines`."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidOption(f"strokes is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidOption("strokes JSON must be an object with 'keep', 'remove', 'width'")
    extra = sorted(set(data) - {"keep", "remove", "width"})
    if extra:
        raise InvalidOption(f"unknown strokes field(s) {extra}; valid: keep, remove, width")
    width = _width(data.get("width", DEFAULT_WIDTH))
    keep, remove = _lines(data, "keep", width), _lines(data, "remove", width)
    if sum(len(points) for points, _ in (*keep, *remove)) > MAX_POINTS:
        raise InvalidOption(f"strokes have more than {MAX_POINTS} points")
    return Polylines(keep, remove, width)


def _width(width: Any) -> float:
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not (
            math.isfinite(width) and 1.0 <= width <= MAX_WIDTH):
        raise InvalidOption(f"strokes width must be a number of pixels in 1..{MAX_WIDTH:g}, "
                            f"not {width!r}"[:200])
    return float(width)


def _lines(data: dict[str, Any], key: str, width: float) -> tuple[Line, ...]:
    lines = data.get(key, [])
    if not isinstance(lines, list):
        raise InvalidOption(f"strokes {key!r} must be a list of polylines [[[x, y], ...], ...]")
    out = []
    for line in lines:
        pen = width
        if isinstance(line, dict):
            if set(line) - {"points", "width"}:
                raise InvalidOption(f"a strokes {key!r} polyline object has 'points' and "
                                    "'width' only")
            pen = _width(line.get("width", width))
            line = line.get("points")
        if not isinstance(line, list) or not line:
            raise InvalidOption(f"each strokes {key!r} polyline must be a non-empty list of "
                                "[x, y] points")
        out.append((tuple(_point(p, key) for p in line), pen))
    return tuple(out)


def _point(point: Any, key: str) -> tuple[float, float]:
    if (not isinstance(point, list) or len(point) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and abs(v) < 1e7 for v in point)):
        raise InvalidOption(f"strokes {key!r} points must be [x, y] pairs of finite numbers, "
                            f"not {point!r}"[:200])
    return float(point[0]), float(point[1])


def load_strokes(value: Any, shape: tuple[int, int], *, max_pixels: int | None = None
                 ) -> StrokeMap:
    """The strokes of option ``value`` rasterised at photo size ``shape = (H, W)``.

    ``value``: JSON polylines (str), a stroke picture's path (str / PathLike) or its bytes.
    """
    check_strokes(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str) and is_json(value):
        return rasterise(parse_polylines(value), shape)
    return read_stroke_picture(value, shape, max_pixels=max_pixels)


def rasterise(lines: Polylines, shape: tuple[int, int]) -> StrokeMap:
    """Polylines drawn with round pens (each line's width, px) into two ``bool (H, W)`` maps."""
    import cv2
    import numpy as np

    maps = []
    for group in (lines.keep, lines.remove):
        canvas = np.zeros(shape, np.uint8)
        for line, width in group:
            # cv2 draws in fixed point: 4 fractional bits keep sub-pixel photo coordinates
            points = np.round(np.asarray(line, np.float64) * 16.0).astype(np.int32)
            points = np.clip(points, -2**26, 2**26)
            if len(points) == 1:
                cv2.circle(canvas, tuple(int(v) for v in points[0]), int(width * 8), 1,
                           -1, cv2.LINE_8, 4)
            else:
                cv2.polylines(canvas, [points.reshape(-1, 1, 2)], False, 1,
                              max(1, round(width)), cv2.LINE_8, 4)
        maps.append(canvas.astype(bool))
    return StrokeMap(maps[0], maps[1])


def read_stroke_picture(source: Any, shape: tuple[int, int], *, max_pixels: int | None = None
                        ) -> StrokeMap:
    """A stroke picture (path or bytes) as keep/remove maps at ``shape``: white keep, black
    remove, grey, colour or transparent nothing; scaled (nearest) to the photo if needed."""
    import cv2
    import numpy as np

    from alphacut.core.decode import decode

    try:
        picture = decode(source, **({} if max_pixels is None else {"max_pixels": max_pixels}))
    except AlphacutError as exc:
        raise InvalidOption(f"strokes picture could not be read: {exc}") from None
    rgb = picture.rgb
    opaque = np.ones(rgb.shape[:2], bool) if picture.alpha is None else picture.alpha >= 0.5
    keep = (rgb.min(axis=2) >= WHITE) & opaque
    remove = (rgb.max(axis=2) <= BLACK) & opaque
    height, width = shape
    h, w = rgb.shape[:2]
    if (h, w) != (height, width):
        if abs((w / h) / (width / height) - 1.0) > MAX_ASPECT_CHANGE:
            raise InvalidOption(f"strokes picture is {w}x{h}, the photo {width}x{height}: "
                                "it must have the photo's size or its shape")
        codes = keep.astype(np.uint8) + 2 * remove.astype(np.uint8)
        codes = cv2.resize(codes, (width, height), interpolation=cv2.INTER_NEAREST)
        keep, remove = codes == 1, codes == 2
    return StrokeMap(keep, remove)


GEODESIC_SIDE = 256  # px: the long side the strokes' reach is measured at
EDGE_COST = 60.0  # a step across a colour change of 1 (on [0, 1] RGB) costs this many steps


def geodesic_reach(image: F32, mark: BoolMap, limit: float) -> F32:
    """Distance ``float32 (h, w)`` from the pixels of ``mark`` ``bool (h, w)``, in pixels of
    ``image`` ``float32 (h, w, 3)`` [0, 1], along paths that pay extra for crossing colour
    changes (so a stroke reaches across its own region, not over the subject's edge); ``inf``
    beyond ``limit``. Measured on a copy at most :data:`GEODESIC_SIDE` px on the long side."""
    import cv2
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    h, w = mark.shape
    scale = min(1.0, GEODESIC_SIDE / max(h, w))
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.GaussianBlur(cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA),
                             (0, 0), 1.0)
    seeds = cv2.resize(mark.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0
    if not seeds.any():
        seeds.flat[int(np.argmax(cv2.resize(mark.astype(np.float32), (sw, sh))))] = True
    ids = np.arange(sh * sw).reshape(sh, sw)
    heads, tails, costs = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = ids[:sh - dy, max(0, -dx):sw - max(0, dx)]
        b = ids[dy:, max(0, dx):sw + min(0, dx)]
        pa = small[:sh - dy, max(0, -dx):sw - max(0, dx)]
        pb = small[dy:, max(0, dx):sw + min(0, dx)]
        step = float(np.hypot(dy, dx))
        change = np.sqrt(((pa - pb) ** 2).sum(axis=2))
        heads.append(a.ravel())
        tails.append(b.ravel())
        costs.append((step * (1.0 + EDGE_COST * change)).ravel())
    cost = np.concatenate(costs) + 1e-6
    graph = coo_matrix((cost, (np.concatenate(heads), np.concatenate(tails))),
                       shape=(sh * sw, sh * sw)).tocsr()
    dist = dijkstra(graph, directed=False, indices=np.flatnonzero(seeds), min_only=True,
                    limit=limit * scale)
    dist = dist.reshape(sh, sw).astype(np.float32) / scale
    dist[~np.isfinite(dist)] = np.float32(1e9)
    full = cv2.resize(dist, (w, h), interpolation=cv2.INTER_LINEAR)
    full[full > limit] = np.inf
    full[mark] = 0.0
    return full


def cut_zone(image: U8, side: Mask, strokes: StrokeMap, *, iters: int = 3,
             reach: float = 0.0) -> tuple[Mask, BoolMap]:
    """The subject decided again near the strokes: (decision ``float32 (h, w)`` 0/1, zone
    ``bool (h, w)``). ``image`` ``uint8 (h, w, 3)``; ``side`` ``float32 (h, w)`` the current
    alpha.

    A colour-model graph cut (OpenCV's GrabCut) with the strokes as definite labels and the
    current alpha as probable ones (``definite`` pixels, when given, as definite ones)
    relabels the frame; only the changed regions that touch a stroke are taken (a stroke
    fixes its own region), and the zone is they and the strokes. The cut starts with the
    pixels within ``reach`` of a stroke along colour-aware paths (``geodesic_reach``) on the
    stroke's side, so its colour models learn the stroke's region, however small the stroke.
    """
    import cv2
    import numpy as np

    was = side >= 0.5
    decided = was.astype(np.float32)
    start = was.copy()
    if reach > 0:
        colours = image.astype(np.float32) * (1.0 / 255.0)
        for mark, value in ((strokes.keep, True), (strokes.remove, False)):
            if mark.any():
                start[np.isfinite(geodesic_reach(colours, mark, reach))] = value
    labels = np.where(start, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    labels[strokes.keep] = cv2.GC_FGD
    labels[strokes.remove] = cv2.GC_BGD
    fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    if fg.all() or not fg.any():
        return decided, strokes.marked
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's k-means start: the same strokes give the same matte
    cv2.grabCut(np.ascontiguousarray(image), labels, None, bgd, fgd, iters,
                cv2.GC_INIT_WITH_MASK)
    now = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    changed = (now != was).astype(np.uint8)
    _, parts = cv2.connectedComponents(changed | strokes.marked.astype(np.uint8), 8)
    touched = np.unique(parts[strokes.marked])
    zone = np.isin(parts, touched[touched > 0])
    decided[zone] = now[zone]
    return decided, zone | strokes.marked
