"""Array conventions shared by every stage, and the result of one removal.

Conventions (written once, used everywhere):

- ``RGB``: ``uint8`` array of shape ``(H, W, 3)``, values 0..255, sRGB.
- ``RGBA``: ``uint8`` array of shape ``(H, W, 4)``, straight (not premultiplied) alpha.
- ``Alpha`` / ``Mask``: ``float32`` array of shape ``(H, W)``, values in [0, 1].
- ``Tensor``: ``float32`` array of shape ``(N, 3, h, w)`` at the model's input size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Decoded:
    """A decoded image: RGB pixels, the file's own alpha if it had one, and metadata.

    ``rgb``: ``uint8 (H, W, 3)``; ``alpha``: ``float32 (H, W)`` in [0, 1] or ``None``.
    """

    rgb: RGB
    alpha: Alpha | None
    meta: ImageMeta


@dataclass
class Result:
    """The outcome of one removal, at the input's full resolution.

    - ``image``: the decoded input, ``uint8 (H, W, 3)``.
    - ``soft``: the model's soft mask (every pass fused) brought to full resolution, before
      refinement: ``float32 (H, W)`` in [0, 1].
    - ``alpha``: the final matte after refinement (and the input's own alpha), same shape.
    - ``foreground``: edge colours cleaned of the old background, ``uint8 (H, W, 3)``.
    - ``timings``: wall seconds per stage, in data-flow order.
    """

    image: RGB
    soft: Mask
    alpha: Alpha
    foreground: RGB
    meta: ImageMeta
    model: str
    timings: dict[str, float] = field(default_factory=dict)

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
