"""Temporal stability: motion-compensated smoothing of the soft mask between frames.

A model run frame by frame flickers: the same edge moves a pixel or two, a thin part comes
and goes. Two filters average a pixel's value along its own motion path (optical flow, OpenCV
DIS on small grey frames, ``video/flow.py``), weighted down where the warp is not trusted
(the warped frame does not match in colour: occlusion, fast motion, a cut; the flow leaves the
picture):

- ``WindowSmoother`` (``video/lookahead.py``, the default for files): a symmetric window of
  ``lookahead`` frames before and after, each warped to this frame, a weighted mean of logits;
  the output lags ``lookahead`` frames behind the input.
- ``TemporalSmoother`` (here; ``lookahead=0``, for live use): causal, each frame blended with
  the previous *smoothed* mask warped into it. A scene cut resets it.

Input and output: soft mask ``float32 (H, W)`` in [0, 1]; frame ``uint8 (H, W, 3)`` RGB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphacut.video.flow import bring_up, make_dis, small_gray, warp_between, working_copy


@dataclass(frozen=True)
class TemporalParams:
    """Defaults measured on ../shared/evaldata/davis2016 (docs/video.md).

    ``lookahead``: frames looked at on each side by the symmetric window filter (the output
    lags that many frames; 0: the causal filter, for live input);
    ``flow_side``: long side of the frames the flow is computed on (pixels);
    ``cut``: fraction of mismatching pixels that counts as a scene cut;
    ``mask_side``: long side the masks are filtered at (larger frames get the correction
    resized up: the models' masks hold no finer detail than this).
    Causal filter: ``strength``: the largest weight given to the warped previous mask
    (0: off, <1); ``sigma``: colour mismatch (grey levels, 0..255) at which trust falls to 1/e.
    Window filter: ``window_sigma`` (the same, for the window), ``window_flow``: DIS preset
    (ultrafast, fast, medium), ``window_side``: the long side it averages at (the correction
    is resized up; 480 scores as full size on DAVIS at 854x480 and costs a third)."""

    lookahead: int = 2
    flow_side: int = 320
    strength: float = 0.85
    sigma: float = 20.0
    cut: float = 0.5
    mask_side: int = 960
    window_sigma: float = 12.0
    window_flow: str = "medium"
    window_side: int = 480

    def __post_init__(self) -> None:
        from alphacut.errors import InvalidOption
        from alphacut.video.flow import PRESETS

        if not 0 <= self.lookahead <= 8:
            raise InvalidOption("lookahead must be 0..8 frames")
        if self.window_flow not in PRESETS:
            raise InvalidOption(f"window_flow must be one of {', '.join(PRESETS)}")


class TemporalSmoother:
    """The causal filter. Call it on frames in display order: ``smoothed = smoother(soft,
    rgb)``. One per clip."""

    def __init__(self, params: TemporalParams | None = None) -> None:
        self.params = params or TemporalParams()
        self._flow = None
        self._prev_gray: np.ndarray | None = None
        self._prev_mask: np.ndarray | None = None

    def reset(self) -> None:
        self._prev_gray = None
        self._prev_mask = None

    def __call__(self, soft: np.ndarray, rgb: np.ndarray) -> np.ndarray:
        gray = small_gray(rgb, self.params.flow_side)
        work = working_copy(soft, self.params.mask_side)
        prev_gray, prev_mask = self._prev_gray, self._prev_mask
        out = work
        if prev_gray is not None and prev_mask is not None and prev_gray.shape == gray.shape \
                and prev_mask.shape == work.shape and self.params.strength > 0:
            out = self._blend(work, gray, prev_gray, prev_mask)
        self._prev_gray, self._prev_mask = gray, out
        return soft if out is work else bring_up(soft, work, out)

    def _blend(self, soft: np.ndarray, gray: np.ndarray, prev_gray: np.ndarray,
               prev_mask: np.ndarray) -> np.ndarray:
        """``soft`` pulled towards ``prev_mask`` warped into this frame, where trusted."""
        if self._flow is None:
            self._flow = make_dis("fast")
        # flow from this frame to the previous one: where each pixel was a frame ago
        warp = warp_between(self._flow, gray, prev_gray, self.params.sigma)
        if warp.cut(self.params.cut):
            return soft  # a scene cut: start afresh
        warped = warp.apply(prev_mask)
        weight = warp.trust_at(soft.shape)
        weight *= self.params.strength
        return (soft + weight * (warped - soft)).astype(np.float32, copy=False)
