"""``--feather PX``: a soft edge on the matte, alpha only.

Definition. Let ``inside`` be the pixels with alpha >= 0.5 and ``s`` the signed Euclidean
distance of a pixel centre to the edge of ``inside`` (positive inside, negative outside; a
pixel next to the edge is at +-0.5). The feathered matte is

    alpha' = min(alpha, ramp(s)),   ramp(s) = smoothstep((s + PX/2) / PX)

clipped to [0, 1]: zero from ``PX/2`` outside the edge, one from ``PX/2`` inside it. So:

- it never adds alpha (no old-background colour can appear), only softens;
- pixels deeper than ``PX/2`` inside the subject keep their alpha (an opaque interior stays 1);
- the 0 < alpha < 1 band becomes at least about ``PX/2`` wide along every edge;
- ``PX = 0`` returns the matte unchanged.

It is the closed form of "erode by PX/2, blur by PX" with no halo outward.
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
    the edge of ``inside``, 0 at ``-px/2`` and 1 at ``+px/2``."""
    t = np.clip(signed_distance(inside) / np.float32(px) + np.float32(0.5), 0.0, 1.0)
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
