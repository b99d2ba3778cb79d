"""Golden vectors for the web page's image maths, computed by the ENGINE's own functions.

``python tests/golden/make_golden.py`` writes ``tests/golden/vectors.json``. pytest recomputes
them (test_golden.py) so the file cannot go stale, and the browser test checks the page's
``imaging.js`` against the same file, so the page cannot drift from the engine. Inputs are tiny
and deterministic (a 24x17 synthetic photo, an 8x8 mask, a 4x4 raw model output); no weights.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parent / "vectors.json"
WIDTH, HEIGHT = 24, 17
COLOR = (30, 200, 90)
MARGIN = 2


def synthetic_rgb() -> np.ndarray:
    """``uint8 (17, 24, 3)``: gradients, a bright disc and a dark bar (edges to snap to)."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    r = (x * 10 + y * 3) % 256
    g = (y * 14 + 40) % 256
    b = ((x - 12) ** 2 + (y - 8) ** 2 < 30) * 180 + 40
    rgb = np.stack([r, g, b], axis=-1)
    rgb[12:15, 3:20] = (15, 10, 5)
    return rgb.astype(np.uint8)


def synthetic_mask() -> np.ndarray:
    """``float32 (8, 8)`` in [0, 1]: a soft blob with exact 0 and 1 corners."""
    y, x = np.mgrid[0:8, 0:8].astype(np.float32)
    m = 1.4 - np.hypot(x - 4.2, y - 3.6) / 3.0
    return np.clip(m, 0.0, 1.0).astype(np.float32)


def raw_output() -> np.ndarray:
    """``float32 (1, 1, 4, 4)``: logits from -8 to 7, as a model without sigmoid gives."""
    return (np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4) - 8.0) * 1.0


def spec_json(spec: Any) -> dict[str, Any]:
    return {"input_size": list(spec.input_size), "scale": spec.scale,
            "mean": list(spec.mean), "std": list(spec.std)}


def tensor_stats(tensor: np.ndarray) -> dict[str, Any]:
    """Per-channel mean, std (population), min and max of ``float32 (1, C, h, w)``."""
    t = tensor[0].reshape(tensor.shape[1], -1).astype(np.float64)
    return {"shape": list(tensor.shape), "mean": t.mean(axis=1).tolist(),
            "std": t.std(axis=1).tolist(), "min": t.min(axis=1).tolist(),
            "max": t.max(axis=1).tolist()}


def flat(a: np.ndarray) -> list[Any]:
    return a.reshape(-1).tolist()


def build() -> dict[str, Any]:
    """Every vector, from alphacut.core functions on the synthetic inputs."""
    import cv2

    from alphacut.core import composite, infer, mask, preprocess
    from alphacut.models.registry import get_spec

    rgb = synthetic_rgb()
    small_mask = synthetic_mask()
    u2netp = get_spec("u2netp")
    shrink = dataclasses.replace(u2netp, input_size=(8, 12))
    sigmoid = dataclasses.replace(u2netp, activation="sigmoid")
    up = mask.upsample_bilinear(small_mask, (HEIGHT, WIDTH))
    guided = mask.upsample_guided(small_mask, rgb)
    gray = mask.to_gray(rgb)
    tricky = np.array([0.0, 0.001, 0.5 / 255, 1.5 / 255, 2.5 / 255, 0.5, 0.999, 1.0],
                      dtype=np.float32)
    return {
        "about": "computed by tests/golden/make_golden.py from alphacut.core; do not edit",
        "image": {"width": WIDTH, "height": HEIGHT, "rgb": flat(rgb)},
        "mask": {"width": 8, "height": 8, "data": flat(small_mask)},
        "tensor": [
            {"spec": spec_json(spec), "stats": tensor_stats(preprocess.to_tensor(rgb, spec)),
             "resized": flat(preprocess.resize_rgb(rgb, spec.input_size))
             if spec.input_size[0] * spec.input_size[1] <= 400 else None}
            for spec in (u2netp, shrink)
        ],
        "soft_mask": {
            "raw": flat(raw_output()), "shape": [1, 1, 4, 4],
            "none": flat(infer.to_soft_masks(raw_output() / 10.0 + 0.5, u2netp, 1)[0]),
            "none_raw": flat(raw_output() / 10.0 + 0.5),
            "sigmoid": flat(infer.to_soft_masks(raw_output(), sigmoid, 1)[0]),
        },
        "gray": flat(gray),
        "resize_area_gray": {"width": 12, "height": 8, "data": flat(
            cv2.resize(gray, (12, 8), interpolation=cv2.INTER_AREA))},
        "upsample_bilinear": flat(up),
        "upsample_guided": flat(guided),
        "alpha_to_u8": {"alpha": flat(tricky), "u8": flat(composite.alpha_to_u8(tricky))},
        "cutout": flat(composite.cutout(rgb, up)),
        "over_color": {"color": list(COLOR),
                       "rgb": flat(composite.over_color(rgb, up, (*COLOR, 255)))},
        "subject_box": {"margin": MARGIN,
                        "box": [int(v) for v in composite.subject_box(up, MARGIN) or ()]},
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
