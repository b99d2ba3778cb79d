"""The one module that knows the order of the stages.

decode -> preprocess -> infer -> mask -> refine -> composite -> encode. Every stage's wall
time goes into ``Result.timings`` under its own name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from alphacut.config import OutputOptions, RefineOptions
from alphacut.core import composite, mask, preprocess
from alphacut.core.infer import predict as infer_mask
from alphacut.models.spec import ModelSpec
from alphacut.runtime.session import ModelSession
from alphacut.types import RGB, Decoded, Result

T = TypeVar("T")


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


def estimate(decoded: Decoded, session: ModelSession, refine: RefineOptions,
             timings: dict[str, float] | None = None) -> Result:
    """Decoded image -> Result with the full-resolution matte and clean foreground."""
    timings = {} if timings is None else timings
    tensor = prepare(decoded, session.spec, timings)
    small = run_timed(timings, "infer", infer_mask, session, tensor,
                      image_pixels=decoded.rgb.shape[0] * decoded.rgb.shape[1])
    return finish(decoded, small, session, refine, timings)


def prepare(decoded: Decoded, spec: ModelSpec, timings: dict[str, float]) -> np.ndarray:
    """Decoded image -> model input ``float32 (1, 3, h, w)`` (the stage before ``infer``;
    needs only the spec, so it can run while the session is still loading)."""
    return run_timed(timings, "preprocess", preprocess.to_tensor, decoded.rgb, spec)


def finish(decoded: Decoded, small: np.ndarray, session: ModelSession, refine: RefineOptions,
           timings: dict[str, float]) -> Result:
    """Soft mask at model size ``float32 (h, w)`` -> Result (the stages after ``infer``).

    ``estimate`` is ``prepare`` -> ``infer`` -> ``finish``; a batch pipeline runs the three
    on different threads so decoding and encoding overlap the model.
    """
    rgb = decoded.rgb
    soft = run_timed(timings, "mask", mask.to_full_resolution, small, rgb,
                     method=refine.upsample, radius=refine.guided_radius, eps=refine.guided_eps)
    with timed(timings, "refine"):
        alpha, foreground = refine_matte(rgb, soft, refine, session=session)
        alpha = mask.limit_by_input_alpha(alpha, decoded.alpha)
    return Result(image=rgb, mask=soft, alpha=alpha, foreground=foreground, meta=decoded.meta,
                  model=session.spec.name, timings=timings)


def refine_matte(rgb: RGB, soft: np.ndarray, refine: RefineOptions, *,
                 session: ModelSession | None = None) -> tuple[np.ndarray, RGB]:
    """Soft mask ``float32 (H, W)`` -> (alpha ``float32 (H, W)``, foreground ``uint8 (H,W,3)``).

    Fuses the flipped pass and the ensemble's models first (they need ``session``, the main
    model's), then mattes the uncertain band, then cleans the edge colours.
    """
    alpha = soft
    if refine.ensemble or refine.tta_flip:
        from alphacut.core.refine.ensemble import ensemble_soft

        alpha = ensemble_soft(rgb, soft, refine, session)
    if refine.matting:
        from alphacut.core.refine.matting import MattingParams, refine_band

        alpha = refine_band(rgb, alpha, MattingParams(band=refine.matting_band))
    foreground = rgb
    if refine.decontaminate:
        from alphacut.core.refine.foreground import estimate_foreground

        foreground = estimate_foreground(rgb, alpha)
    return alpha, foreground


def compose(result: Result, output: OutputOptions, background: RGB | None = None) -> np.ndarray:
    """Result -> the pixels to encode: mask ``(H, W)``, RGB, or RGBA ``uint8``, maybe cropped."""
    if output.mask_only:
        pixels = result.mask_u8
    elif background is not None:
        pixels = composite.over_image(result.foreground, result.alpha, background)
    elif output.bg_color is not None:
        pixels = composite.over_color(result.foreground, result.alpha, output.bg_color)
    else:
        pixels = composite.cutout(result.foreground, result.alpha)
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
