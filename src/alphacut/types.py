"""Array conventions shared by every stage, and the result of one removal.

Conventions (written once, used everywhere):

- ``RGB``: ``uint8`` array of shape ``(H, W, 3)``, values 0..255, sRGB.
- ``RGBA``: ``uint8`` array of shape ``(H, W, 4)``, straight (not premultiplied) alpha.
- ``Alpha`` / ``Mask``: ``float32`` array of shape ``(H, W)``, values in [0, 1].
- ``Tensor``: ``float32`` array of shape ``(N, 3, h, w)`` at the model's input size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

RGB = npt.NDArray[np.uint8]
RGBA = npt.NDArray[np.uint8]
Alpha = npt.NDArray[np.float32]
Mask = npt.NDArray[np.float32]
Tensor = npt.NDArray[np.float32]


@dataclass
class ImageMeta:
    """What the decoder learned about the source file, carried to the encoder."""

    width: int
    height: int
    source_format: str | None = None
    source_mode: str | None = None
    icc_profile: bytes | None = None
    exif_rotated: bool = False
    frames: int = 1


class WorkingSize(Protocol):
    """A solve's working size (``core.refine.scale.SolveScale`` is one): it shrinks a
    full-size map ``(H, W)`` to the working grid ``(h, w)``, area averaged."""

    def shrink(self, image: np.ndarray) -> np.ndarray: ...


@dataclass
class Decoded:
    """A decoded image: RGB pixels, the file's own alpha if it had one, and metadata.

    ``rgb``: ``uint8 (H, W, 3)``; ``alpha``: ``float32 (H, W)`` in [0, 1] or ``None``.
    """

    rgb: RGB
    alpha: Alpha | None
    meta: ImageMeta


class SoftMask:
    """The mask stage's fused soft mask, made at the size each step needs.

    - ``full()``: ``float32 (H, W)`` in [0, 1] at the photo's size, made on first call and
      kept (``Result.soft``).
    - ``at(scale)``: the mask at a solve's working size (a ``core.refine.scale.SolveScale``),
      ``float32 (h, w)``: by ``at`` when the mask stage gave a way straight from the
      model's output, else the full mask shrunk by ``scale.shrink``.

    Band matting replaces the full-size soft mask everywhere, so the default preset asks
    only ``at``: a 12 MP photo's soft mask is never made unless a caller reads it.
    """

    def __init__(self, shape: tuple[int, int], full: Callable[[], Mask],
                 at: Callable[[WorkingSize], Mask] | None = None) -> None:
        self.shape = shape
        self._make = full
        self._at = at
        self._full: Mask | None = None

    @classmethod
    def of(cls, mask: Mask) -> SoftMask:
        """A soft mask that is already made at full size."""
        made = cls((int(mask.shape[0]), int(mask.shape[1])), lambda: mask)
        made._full = mask
        return made

    @property
    def made(self) -> bool:
        """Whether the full-size mask exists yet."""
        return self._full is not None

    def full(self) -> Mask:
        if self._full is None:
            self._full = self._make()
        return self._full

    def at(self, scale: WorkingSize) -> Mask:
        if self._at is None:
            return scale.shrink(self.full()).astype(np.float32, copy=False)
        return self._at(scale)


@dataclass
class Result:
    """The outcome of one removal, at the input's full resolution.

    - ``image``: the decoded input, ``uint8 (H, W, 3)``.
    - ``soft_mask``: the model's soft mask (every pass fused) before refinement, a
      :class:`SoftMask`; ``soft`` is it at full resolution, ``float32 (H, W)`` in [0, 1],
      made on first read (the default preset's refine never needs it).
    - ``alpha``: the final matte after refinement (and the input's own alpha), same shape.
    - ``foreground``: edge colours cleaned of the old background, ``uint8 (H, W, 3)``.
    - ``timings``: wall seconds per stage, in data-flow order.
    """

    image: RGB
    soft_mask: SoftMask
    alpha: Alpha
    foreground: RGB
    meta: ImageMeta
    model: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def soft(self) -> Mask:
        """The soft mask at full resolution, ``float32 (H, W)`` in [0, 1] (made once)."""
        return self.soft_mask.full()

    @property
    def rgba(self) -> RGBA:
        """The cut-out, as ``save`` writes it: clean foreground with the matte as alpha,
        colour under alpha 0 black; ``uint8 (H, W, 4)``."""
        from alphacut.core.cutout import cutout

        return cutout(self.foreground, self.alpha)

    @property
    def alpha_u8(self) -> npt.NDArray[np.uint8]:
        """The final matte as an 8-bit grey image, ``uint8 (H, W)`` 0..255."""
        from alphacut.core.cutout import alpha_to_u8

        return alpha_to_u8(self.alpha)
