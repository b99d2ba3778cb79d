"""The stages in their one order, and the split points every runner uses.

    decode -> preprocess -> infer -> mask -> refine -> composite -> encode
    `------- prepare -----'  infer  `------ finish ------'  `-- render --'

``prepare`` needs no session (a loader thread, a Ray task); ``infer`` runs every model pass
(main model, flip, ensemble partners) and is the only step that needs sessions; ``finish``
and ``render`` need none. Each stage adds its wall time to ``timings`` under its own name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from alphacut.config import OutputOptions, RefineOptions
from alphacut.core import composite, mask, preprocess
from alphacut.core.fusion import fuse_logits
from alphacut.engine.passes import ModelPass
from alphacut.types import RGB, Decoded, Mask, Result, Tensor

T = TypeVar("T")
STAGES: tuple[str, ...] = ("decode", "preprocess", "infer", "mask", "refine", "composite",
                           "encode")
SoftFilter = Callable[[Mask, RGB], Mask]
"""``(soft float32 (H, W) in [0, 1], rgb uint8 (H, W, 3)) -> soft``: applied between the mask
and refine stages (video stabilisation hooks in here)."""


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the ``with`` body to ``timings[stage]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def run_timed(timings: dict[str, float], stage: str, fn: Callable[..., T], *args: Any,
              **kwargs: Any) -> T:
    with timed(timings, stage):
        return fn(*args, **kwargs)


@dataclass
class Prepared:
    """An image ready for the model: the decoded photo and one input tensor per pass,
    ``float32 (1, 3, h, w)`` each."""

    decoded: Decoded
    tensors: list[Tensor]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pixels(self) -> int:
        return int(self.decoded.rgb.shape[0] * self.decoded.rgb.shape[1])


@dataclass
class Inferred:
    """The model's answers for one image: one soft mask per pass at model size,
    ``float32 (h, w)`` in [0, 1]."""

    masks: list[Mask]


def prepare(decoded: Decoded, passes: Sequence[ModelPass],
            timings: dict[str, float] | None = None) -> Prepared:
    """Decoded image -> the model input of every pass (a mirrored photo for a flip pass)."""
    timings = {} if timings is None else timings
    rgb = decoded.rgb
    with timed(timings, "preprocess"):
        cache: dict[tuple[Any, bool], Tensor] = {}
        tensors = []
        for p in passes:
            key = (p.spec, p.flip)
            if key not in cache:
                image = np.ascontiguousarray(rgb[:, ::-1]) if p.flip else rgb
                cache[key] = preprocess.to_tensor(image, p.spec)
            tensors.append(cache[key])
    return Prepared(decoded, tensors, timings)


def soft_mask(item: Prepared, inferred: Inferred, passes: Sequence[ModelPass],
              refine: RefineOptions) -> Mask:
    """The mask stage: every pass's mask at full resolution (flip passes mirrored back),
    fused: ``float32 (H, W)`` in [0, 1]."""
    rgb = item.decoded.rgb
    masks = []
    for p, small in zip(passes, inferred.masks, strict=True):
        if p.flip:
            small = np.ascontiguousarray(small[:, ::-1])
        masks.append(mask.to_full_resolution(small, rgb, method=refine.upsample,
                                             radius=refine.guided_radius, eps=refine.guided_eps))
    return fuse_logits(masks, [p.weight for p in passes])


def refine_matte(rgb: RGB, soft: Mask, refine: RefineOptions) -> tuple[Mask, RGB]:
    """The refine stage: soft mask ``float32 (H, W)`` -> (alpha ``float32 (H, W)``, clean
    foreground ``uint8 (H, W, 3)``): band matting, then edge colours."""
    alpha = soft
    strokes = None
    if refine.strokes is not None:  # strokes force matting near them, even without matting
        from alphacut.core.refine.strokes import load_strokes

        strokes = load_strokes(refine.strokes, soft.shape)
    if refine.matting or strokes is not None:
        from alphacut.core.refine.matting import MattingParams, refine_band

        alpha = refine_band(rgb, alpha, MattingParams(band=refine.matting_band),
                            strokes=strokes, band=refine.matting)
    foreground = rgb
    if refine.decontaminate:
        from alphacut.core.refine.foreground import estimate_foreground

        foreground = estimate_foreground(rgb, alpha)
    return alpha, foreground


def finish(item: Prepared, inferred: Inferred, passes: Sequence[ModelPass],
           refine: RefineOptions, *, model: str,
           soft_filter: SoftFilter | None = None) -> Result:
    """mask -> (``soft_filter``) -> refine: the Result at full resolution. No session."""
    decoded, timings = item.decoded, item.timings
    soft = run_timed(timings, "mask", soft_mask, item, inferred, passes, refine)
    if soft_filter is not None:
        soft = run_timed(timings, "temporal", soft_filter, soft, decoded.rgb)
    with timed(timings, "refine"):
        alpha, foreground = refine_matte(decoded.rgb, soft, refine)
        alpha = mask.limit_by_input_alpha(alpha, decoded.alpha)
    return Result(image=decoded.rgb, soft=soft, alpha=alpha, foreground=foreground,
                  meta=decoded.meta, model=model, timings=timings)


def compose(result: Result, output: OutputOptions, background: RGB | None = None) -> np.ndarray:
    """Result -> the pixels to encode: alpha ``(H, W)``, RGB, or RGBA ``uint8``, maybe cropped."""
    if output.mask_only:
        pixels = result.alpha_u8
    elif background is not None:
        pixels = composite.over_image(result.foreground, result.alpha, background)
    elif output.bg_color is not None:
        pixels = composite.over_color(result.foreground, result.alpha, output.bg_color)
    else:
        pixels = result.rgba
    if output.crop:
        pixels = composite.crop(pixels, composite.subject_box(result.alpha, output.crop_margin))
    return pixels


def render(result: Result, output: OutputOptions, background: RGB | None = None) -> bytes:
    """Result -> encoded bytes in ``output.format``; adds composite/encode timings."""
    from alphacut.core.encode import encode

    pixels = run_timed(result.timings, "composite", compose, result, output, background)
    icc = None if output.mask_only else result.meta.icc_profile
    return run_timed(result.timings, "encode", encode, pixels, output.format, icc_profile=icc,
                     quality=output.quality, png_compress_level=output.png_compress_level)
