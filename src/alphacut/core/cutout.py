"""Alpha to 8 bits and the transparent cut-out: the one way every output writes alpha.

A leaf module (numpy and OpenCV only): ``Result.rgba`` and the composite stage both use it.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt


def alpha_to_u8(alpha: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """``float32 (H, W)`` in [0, 1] -> ``uint8 (H, W)`` 0..255, rounded to nearest.

    One pass in OpenCV, which rounds itself (an added 0.5 would round up: alpha 0.001 gave 1).
    """
    return cv2.convertScaleAbs(alpha, alpha=255.0) if alpha.size else alpha.astype(np.uint8)


def cutout(fg: npt.NDArray[np.uint8], alpha: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Straight-alpha RGBA ``uint8 (H, W, 4)``; colour under alpha 0 is set to black.

    Invisible pixels carry no old background, and the file is about half the size and
    faster to encode (measured on 12 MP PNG: 21.9 -> 9.8 MB, 1.31 -> 0.73 s).
    """
    a8 = alpha_to_u8(alpha)
    if a8.size == 0:
        return np.zeros((*a8.shape, 4), dtype=np.uint8)
    # cvtColor + one strided copy instead of np.dstack (12 MP: 95 -> 25 ms); blanking as one
    # multiply of each pixel's 4 bytes, seen as a uint32, by (alpha != 0): boolean-mask
    # assignment cost 230 ms when most of a 12 MP photo is background.
    rgba = cv2.cvtColor(np.ascontiguousarray(fg), cv2.COLOR_RGB2RGBA)
    rgba[..., 3] = a8
    pixels = rgba.view(np.uint32).reshape(a8.shape)
    np.multiply(pixels, a8 != 0, out=pixels)
    return rgba
