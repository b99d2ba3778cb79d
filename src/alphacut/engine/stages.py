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
from alphacut.core.finish import colour, layout
from alphacut.core.finish import steps as finishing
from alphacut.core.fusion import fuse_logits
from alphacut.core.refine.scale import SolveScale
from alphacut.core.refine.strokes import StrokeMap
from alphacut.core.roi import Box, context_box, keep_inside, paste, resolve
from alphacut.engine.passes import ModelPass
from alphacut.types import RGB, Decoded, Mask, Result, SoftMask, Tensor

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
    ``float32 (1, 3, h, w)`` each. With a region of interest, ``roi`` is its pixel box and
    ``crop`` the context box the tensors were made from (both None: the whole frame)."""

    decoded: Decoded
    tensors: list[Tensor]
    timings: dict[str, float] = field(default_factory=dict)
    roi: Box | None = None
    crop: Box | None = None

    @property
    def pixels(self) -> int:
        return int(self.decoded.rgb.shape[0] * self.decoded.rgb.shape[1])


@dataclass
class Inferred:
    """The model's answers for one image: one soft mask per pass at model size,
    ``float32 (h, w)`` in [0, 1]."""

    masks: list[Mask]


def prepare(decoded: Decoded, passes: Sequence[ModelPass],
            timings: dict[str, float] | None = None, *, roi: str | None = None) -> Prepared:
    """Decoded image -> the model input of every pass (a mirrored photo for a flip pass);
    with ``roi`` (core/roi.py), made from the crop around that box."""
    timings = {} if timings is None else timings
    rgb = decoded.rgb
    with timed(timings, "preprocess"):
        box = crop = None
        if roi is not None:
            height, width = rgb.shape[:2]
            box = resolve(roi, width, height)
            if box == Box(0, 0, width, height):  # the whole photo (remove.bg's default)
                box = None
            else:
                crop = context_box(box, width, height)
                rgb = rgb[crop.slices]
        cache: dict[tuple[Any, bool], Tensor] = {}
        tensors = []
        for p in passes:
            key = (p.spec, p.flip)
            if key not in cache:
                image = np.ascontiguousarray(rgb[:, ::-1]) if p.flip else rgb
                cache[key] = preprocess.to_tensor(image, p.spec)
            tensors.append(cache[key])
    return Prepared(decoded, tensors, timings, roi=box, crop=crop)


def soft_mask(item: Prepared, inferred: Inferred, passes: Sequence[ModelPass],
              refine: RefineOptions) -> SoftMask:
    """The mask stage: every pass's mask (flip passes mirrored back), fused, as a
    :class:`SoftMask` of the photo. At full resolution (``float32 (H, W)`` in [0, 1]; with a
    region of interest, 0 outside its box) it is made here for guided upsampling or a region
    of interest, else on first ask; a solve's working-size copy (``SoftMask.at``) comes
    straight from the model's outputs, bilinearly, without the full-size map in between."""
    rgb = item.decoded.rgb
    if item.crop is not None:
        rgb = rgb[item.crop.slices]
    smalls = [np.ascontiguousarray(small[:, ::-1]) if p.flip else small
              for p, small in zip(passes, inferred.masks, strict=True)]
    weights = [p.weight for p in passes]

    def full() -> Mask:
        soft = fuse_logits([mask.to_full_resolution(small, rgb, method=refine.upsample,
                                                    radius=refine.guided_radius,
                                                    eps=refine.guided_eps)
                            for small in smalls], weights)
        if item.roi is None or item.crop is None:
            return soft
        return paste(soft, item.crop, item.roi, item.decoded.rgb.shape[:2])

    if refine.upsample != "bilinear" or item.crop is not None:
        return SoftMask.of(full())

    def at(scale: SolveScale) -> Mask:
        return fuse_logits([scale.from_grid(small) for small in smalls], weights)

    return SoftMask((int(rgb.shape[0]), int(rgb.shape[1])), full, at)


def load_strokes(refine: RefineOptions, shape: tuple[int, int]) -> StrokeMap | None:
    """The touch-up strokes of ``refine`` rasterised at the photo's ``(H, W)``, or None."""
    if refine.strokes is None:
        return None
    from alphacut.core.refine.strokes import load_strokes as rasterise

    return rasterise(refine.strokes, shape)


def refine_matte(rgb: RGB, soft: Mask | SoftMask, refine: RefineOptions,
                 strokes: StrokeMap | None = None) -> tuple[Mask, RGB]:
    """The refine stage: soft mask ``float32 (H, W)`` (or the mask stage's ``SoftMask``) ->
    (alpha ``float32 (H, W)``, clean foreground ``uint8 (H, W, 3)``): band matting (forced
    near touch-up ``strokes``, which are at ``rgb``'s size), then edge colours."""
    if strokes is None and refine.strokes is not None:
        strokes = load_strokes(refine, soft.shape)
    soft_tiles, copy = None, None
    if refine.matting or strokes is not None:
        from alphacut.core.refine.matting import MattingParams, refine_band_matte
        from alphacut.core.refine.tiles import in_background

        if refine.decontaminate:  # the colours' output copy, made while the band is solved
            copy = in_background(rgb.copy)
        alpha, soft_tiles = refine_band_matte(rgb, soft, MattingParams(band=refine.matting_band),
                                              strokes=strokes, band=refine.matting)
    else:
        alpha = soft.full() if isinstance(soft, SoftMask) else soft
    foreground = rgb
    if refine.decontaminate:
        from alphacut.core.refine.foreground import estimate_foreground

        foreground = estimate_foreground(rgb, alpha, soft_tiles=soft_tiles, copy=copy)
    return alpha, foreground


def refine_in_crop(rgb: RGB, soft: Mask, refine: RefineOptions, crop: Box,
                   roi: Box) -> tuple[Mask, RGB]:
    """``refine_matte`` on the context crop only (the matte is 0 outside ``roi`` anyway), put
    back into the full frame and kept inside ``roi``: full-size (alpha, foreground). Strokes
    are drawn at the photo's size, then cut to the crop."""
    strokes = load_strokes(refine, soft.shape)
    if strokes is not None:
        strokes = type(strokes)(strokes.keep[crop.slices], strokes.remove[crop.slices])
    small_alpha, small_fg = refine_matte(np.ascontiguousarray(rgb[crop.slices]),
                                         np.ascontiguousarray(soft[crop.slices]), refine,
                                         strokes)
    alpha = np.zeros(soft.shape, dtype=np.float32)
    alpha[crop.slices] = keep_inside(np.array(small_alpha, dtype=np.float32), roi.inside(crop))
    foreground = rgb
    if refine.decontaminate:
        foreground = rgb.copy()
        foreground[crop.slices] = small_fg
    return alpha, foreground


def finish(item: Prepared, inferred: Inferred, passes: Sequence[ModelPass],
           refine: RefineOptions, *, model: str,
           soft_filter: SoftFilter | None = None, soft: Mask | None = None) -> Result:
    """mask -> (``soft_filter``) -> refine: the Result at full resolution. No session.
    ``soft``: the mask stage's output when the caller ran it already (``Engine.mask``: a
    video filter that looks ahead needs the masks of later frames first)."""
    decoded, timings = item.decoded, item.timings
    if soft is None:
        made = run_timed(timings, "mask", soft_mask, item, inferred, passes, refine)
    else:
        made = SoftMask.of(soft)
    if soft_filter is not None:
        made = SoftMask.of(run_timed(timings, "temporal", soft_filter, made.full(), decoded.rgb))
    with timed(timings, "refine"):
        if item.roi is None or item.crop is None:
            alpha, foreground = refine_matte(decoded.rgb, made, refine)
        else:
            alpha, foreground = refine_in_crop(decoded.rgb, made.full(), refine, item.crop,
                                               item.roi)
        alpha = mask.limit_by_input_alpha(alpha, decoded.alpha)
    return Result(image=decoded.rgb, soft_mask=made, alpha=alpha, foreground=foreground,
                  meta=decoded.meta, model=model, timings=timings)


def compose(result: Result, output: OutputOptions, background: RGB | None = None) -> np.ndarray:
    """Result -> the pixels to encode: alpha ``(H, W)``, RGB, or RGBA ``uint8``, after the
    finishing steps in their order: feather, layout (crop, crop_margin, size, scale,
    position), colour matching, shadow, then over the background."""
    alpha = finishing.feathered(result.alpha, output)  # issue 13: --feather
    alpha, foreground = layout.arrange(alpha, result.foreground, output)  # crop, size, ...
    if output.mask_only:
        return composite.alpha_to_u8(alpha)
    if background is not None:
        background = composite.cover(background, *alpha.shape)
    foreground = colour.finish(foreground, alpha, output.match_colour, background,
                               output.bg_color)  # issue 13: --match-colour
    shade = finishing.shadow_of(alpha, output)  # issue 13: --shadow
    if shade is not None:
        return finishing.over_shadow(foreground, alpha, shade, output, background)
    if background is not None:
        return composite.blend(foreground, alpha, background)
    if output.bg_color is not None:
        return composite.over_color(foreground, alpha, output.bg_color)
    return composite.cutout(foreground, alpha)


def render(result: Result, output: OutputOptions, background: RGB | None = None) -> bytes:
    """Result -> encoded bytes in ``output.format``; adds composite/encode timings."""
    from alphacut.core.encode import encode

    if output.format == "psd":
        from alphacut.core.psd import render_psd

        return run_timed(result.timings, "encode", render_psd, result, output, background)
    if output.layers:
        from alphacut.core.layers import render_zip

        return run_timed(result.timings, "encode", render_zip, result, output)
    pixels = run_timed(result.timings, "composite", compose, result, output, background)
    icc = None if output.mask_only else result.meta.icc_profile
    return run_timed(result.timings, "encode", encode, pixels, output.format, icc_profile=icc,
                     quality=output.quality, png_compress_level=output.png_compress_level)
