"""``--feather PX``: a soft edge on the matte, alpha only.

Definition. Let ``inside`` be the pixels with alpha >= 0.5 and ``s`` the signed Euclidean
distance of a pixel centre to the edge of ``inside`` (positive inside, negative outside; a
pixel next to the edge is at +-0.5). The feathered matte is

    alpha' = min(alpha, ramp(s)),   ramp(s) = smoothstep(s / PX)

with the smoothstep's argument clipped to [0, 1]: zero outside the edge, rising to one at
``PX`` inside it. So:

- it never adds alpha (no old-background colour can appear), only softens;
- pixels at least ``PX`` inside the subject keep their alpha (an opaque interior stays 1);
- along every edge the matte fades from 1 to 0 over ``PX`` pixels, ending on the old edge;
  what lay outside it (a faint haze, stray hair below alpha 0.5) is cleared;
- ``PX = 0`` returns the matte unchanged.

It is the closed form of "erode by PX/2, then blur by PX/2": a soft edge with no halo.
"""

from __future__ import annotations

import numpy as np

from alphacut.types import Alpha


def feather(alpha: Alpha, px: float) -> Alpha:
    """``float32 (H, W)`` in [0, 1] -> the feathered matte, same shape and range."""
    if px <= 0 or alpha.size == 0:
        return alpha
    ramp = edge_ramp(alpha >= 0.5, px)
    return np.minimum(alpha, ramp).astype(np.float32, copy=False)


def edge_ramp(inside: np.ndarray, px: float) -> Alpha:
    """``bool (H, W)`` -> ``float32 (H, W)`` in [0, 1]: smoothstep of the signed distance to
    the edge of ``inside``, 0 on and outside the edge and 1 from ``px`` inside it."""
    t = np.clip(signed_distance(inside) / np.float32(px), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def signed_distance(inside: np.ndarray) -> np.ndarray:
    """``bool (H, W)`` -> ``float32 (H, W)``: distance of each pixel centre to the region's
    edge, positive inside, negative outside (+-0.5 next to the edge)."""
    import cv2

    mask = inside.astype(np.uint8)
    if not mask.any():
        return np.full(inside.shape, -np.inf, np.float32)
    if mask.all():
        return np.full(inside.shape, np.inf, np.float32)
    d_in = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.where(inside, d_in - 0.5, 0.5 - d_out).astype(np.float32)
