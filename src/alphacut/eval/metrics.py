"""Quality metrics for predicted alpha against human ground truth.

Inputs everywhere: ``pred`` is ``float (H, W)`` in [0, 1] (alphacut's alpha); ``gt`` and
``trimap`` are ``uint8 (H, W)`` 0..255 as stored on disk; ``ignore``/``region`` are
``bool (H, W)``.

Masks (saliency-style ground truth), following pysodmetrics' conventions (``gt > 128`` is
foreground; prediction used as is, *without* the min-max stretch pysodmetrics applies by default,
because a global offset in our alpha is a real defect):

- ``mae``: mean |pred − gt01| per image (pysodmetrics ``MAE``); set value = mean over images.
- ``max_f``: F-measure with β² = 0.3 over 256 thresholds (pysodmetrics ``FmeasureV2`` +
  ``FmeasureHandler``; the old ``Fmeasure`` class is deprecated). Set value = max over thresholds
  of the curve averaged over images (the SOD convention); per image = max of its own curve.
- ``weighted_f``: Margolin et al. weighted F (β = 1, pysodmetrics default); mean over images.
- ``s_measure``: structure measure (α = 0.5); mean over images.
- ``mean_e``: *mean* E-measure, the mean over thresholds of the averaged E curve (also stored:
  ``max_e`` and adaptive ``adp_e`` at the set level).
- ``iou``: IoU of ``pred >= 0.5`` against ``gt > 128``; mean over images (computed here).

Ignore band (Oxford-IIIT Pet, value 128): ``mae`` and ``iou`` are computed over valid pixels only.
pysodmetrics has no mask argument, so for F/wF/S/E the band is set to background in *both* the
prediction and the ground truth (pred := gt := 0 there). F-measure only counts TP, FP and FN, so
the band then contributes nothing to it (except at the degenerate "≥ 0" threshold); S and E count
agreeing background too, so the band nudges them slightly upward, equally for every method.

Mattes (alphamatting.com style), written here after the Deep Image Matting MATLAB evaluation code
(Xu et al. 2017; Rhemann et al. 2009), on alpha in [0, 1], each over the whole image and over the
trimap's unknown band (suffix ``_unknown``):

- ``sad``: Σ|α̂ − α| / 1000.   ``mse``: mean (α̂ − α)² over the region.
- ``grad``: Σ (|∇α̂| − |∇α|)² / 1000 with Gaussian-derivative gradients, σ = 1.4.
- ``conn``: connectivity error, thresholds 0, 0.1 … 1, θ = 0.15, 4-connectivity, / 1000.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
U8Array = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]

MASK_METRICS = ("mae", "max_f", "weighted_f", "s_measure", "mean_e", "iou")
MATTE_METRICS = ("mae", "sad", "mse", "grad", "conn",
                 "sad_unknown", "mse_unknown", "grad_unknown", "conn_unknown")
LOWER_IS_BETTER = {"mae", "sad", "mse", "grad", "conn",
                   "sad_unknown", "mse_unknown", "grad_unknown", "conn_unknown"}
BETA2 = 0.3
GRAD_SIGMA = 1.4
CONN_STEP = 0.1
CONN_THETA = 0.15


# ---------------------------------------------------------------- shared helpers


def to_unit(gt: U8Array) -> FloatArray:
    """``uint8 (H, W)`` 0..255 → ``float64 (H, W)`` in [0, 1]."""
    return np.asarray(gt, dtype=np.float64) / 255.0


def clean_pred(pred: FloatArray) -> FloatArray:
    """Any float/uint8 prediction → ``float64 (H, W)`` clipped to [0, 1]."""
    pred = np.asarray(pred)
    if pred.dtype == np.uint8:
        return pred.astype(np.float64) / 255.0
    return np.clip(pred.astype(np.float64), 0.0, 1.0)


def binarize_gt(gt: U8Array) -> BoolArray:
    """Ground-truth foreground by pysodmetrics' rule: ``gt > 128``, ``bool (H, W)``."""
    return np.asarray(gt) > 128


def mae(pred: FloatArray, gt: U8Array, ignore: BoolArray | None = None) -> float:
    """Mean |pred − gt/255| over the pixels not ignored (soft gt, no binarisation)."""
    err = np.abs(clean_pred(pred) - to_unit(gt))
    return float(err.mean() if ignore is None else err[~ignore].mean())


def iou(pred: FloatArray, gt: U8Array, ignore: BoolArray | None = None,
        *, threshold: float = 0.5) -> float:
    """IoU of ``pred >= threshold`` with ``gt > 128`` over valid pixels; 1.0 when both empty."""
    p = clean_pred(pred) >= threshold
    g = binarize_gt(gt)
    if ignore is not None:
        p, g = p[~ignore], g[~ignore]
    union = np.count_nonzero(p | g)
    return 1.0 if union == 0 else np.count_nonzero(p & g) / union


# ---------------------------------------------------------------- masks (pysodmetrics)


class MaskScorer:
    """Accumulates the mask metrics over a set, one image at a time.

    ``step`` returns that image's values; ``results`` returns the set-level values.
    """

    def __init__(self) -> None:
        import py_sod_metrics as sod

        self.fm = sod.FmeasureV2(
            {"f": sod.FmeasureHandler(with_dynamic=True, with_adaptive=False, beta=BETA2)})
        self.wfm = sod.WeightedFmeasure()
        self.sm = sod.Smeasure()
        self.em = sod.Emeasure()
        self.mae = sod.MAE()
        self.maes: list[float] = []
        self.ious: list[float] = []

    def step(self, pred: FloatArray, gt: U8Array, ignore: BoolArray | None = None
             ) -> dict[str, float]:
        """Score one image: ``pred`` float (H, W) in [0, 1], ``gt`` uint8 (H, W)."""
        p, g = clean_pred(pred), binarize_gt(gt)
        if ignore is None:
            self.mae.step(p, g, normalize=False)
            image_mae = float(self.mae.maes[-1])
        else:
            image_mae = mae(p, np.where(g, 255, 0).astype(np.uint8), ignore)
            p, g = np.where(ignore, 0.0, p), g & ~ignore
        for metric in (self.fm, self.wfm, self.sm, self.em):
            metric.step(p, g, normalize=False)
        self.maes.append(image_mae)
        self.ious.append(iou(p, np.where(g, 255, 0).astype(np.uint8), ignore))
        return self._last()

    def _last(self) -> dict[str, float]:
        return {
            "mae": self.maes[-1],
            "max_f": float(np.max(self.fm._metric_handlers["f"].dynamic_results[-1])),
            "weighted_f": float(self.wfm.weighted_fms[-1]),
            "s_measure": float(self.sm.sms[-1]),
            "mean_e": float(np.mean(self.em.changeable_ems[-1])),
            "iou": self.ious[-1],
        }

    def __len__(self) -> int:
        return len(self.maes)

    def results(self) -> dict[str, float]:
        """Set-level values (see the module docstring for how each is pooled)."""
        if not self.maes:
            return {}
        f_curve = self.fm.get_results()["f"]["dynamic"]
        em = self.em.get_results()["em"]
        return {
            "mae": float(np.mean(self.maes)),
            "max_f": float(np.max(f_curve)),
            "mean_f": float(np.mean(f_curve)),
            "weighted_f": float(self.wfm.get_results()["wfm"]),
            "s_measure": float(self.sm.get_results()["sm"]),
            "mean_e": float(np.mean(em["curve"])),
            "max_e": float(np.max(em["curve"])),
            "adp_e": float(em["adp"]),
            "iou": float(np.mean(self.ious)),
        }

    @classmethod
    def combine(cls, scorers: list[MaskScorer]) -> MaskScorer:
        """One scorer holding every image of ``scorers`` (for the overall row)."""
        out = cls()
        f_all = out.fm._metric_handlers["f"].dynamic_results
        for s in scorers:
            f_all.extend(s.fm._metric_handlers["f"].dynamic_results)
            out.wfm.weighted_fms.extend(s.wfm.weighted_fms)
            out.sm.sms.extend(s.sm.sms)
            out.em.changeable_ems.extend(s.em.changeable_ems)
            out.em.adaptive_ems.extend(s.em.adaptive_ems)
            out.maes.extend(s.maes)
            out.ious.extend(s.ious)
        return out


# ---------------------------------------------------------------- mattes (DIM evaluation code)


def _region(shape: tuple[int, ...], region: BoolArray | None) -> BoolArray:
    return np.ones(shape, dtype=bool) if region is None else np.asarray(region, dtype=bool)


def sad(pred: FloatArray, gt: U8Array, region: BoolArray | None = None) -> float:
    """Sum of absolute differences on [0, 1] alpha over ``region``, divided by 1000."""
    err = np.abs(clean_pred(pred) - to_unit(gt))
    return float(err[_region(err.shape, region)].sum() / 1000.0)


def mse(pred: FloatArray, gt: U8Array, region: BoolArray | None = None) -> float:
    """Mean squared difference on [0, 1] alpha over ``region``; 0.0 for an empty region."""
    err = (clean_pred(pred) - to_unit(gt)) ** 2
    values = err[_region(err.shape, region)]
    return float(values.mean()) if values.size else 0.0


def gaussian_derivative_kernel(sigma: float = GRAD_SIGMA, epsilon: float = 1e-2) -> FloatArray:
    """``gaussgradient.m``'s x-kernel, ``float64 (k, k)``: g(row)·g'(col), unit L2 norm."""
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2.0 * np.pi) * sigma * epsilon))))
    u = np.arange(-half, half + 1, dtype=np.float64)
    gauss = np.exp(-(u**2) / (2.0 * sigma**2)) / (sigma * np.sqrt(2.0 * np.pi))
    dgauss = -u * gauss / sigma**2
    hx = np.outer(gauss, dgauss)
    return hx / np.sqrt(np.sum(hx**2))


def gradient_magnitude(alpha: FloatArray, sigma: float = GRAD_SIGMA) -> FloatArray:
    """|∇α| with Gaussian-derivative filters ('replicate' border, true convolution)."""
    from scipy.ndimage import convolve

    hx = gaussian_derivative_kernel(sigma)
    gx = convolve(alpha, hx, mode="nearest")
    gy = convolve(alpha, hx.T, mode="nearest")
    return np.sqrt(gx**2 + gy**2)


def gradient_error(pred: FloatArray, gt: U8Array, region: BoolArray | None = None,
                   *, sigma: float = GRAD_SIGMA) -> float:
    """Σ (|∇α̂| − |∇α|)² over ``region`` / 1000, α in [0, 1] (DIM ``compute_gradient_loss``)."""
    err = (gradient_magnitude(clean_pred(pred), sigma) - gradient_magnitude(to_unit(gt), sigma))
    return float((err**2)[_region(err.shape, region)].sum() / 1000.0)


def largest_component(binary: BoolArray) -> BoolArray:
    """The largest 4-connected component of ``binary`` (all False if there is none)."""
    from scipy.ndimage import label

    labels, count = label(binary)
    if count == 0:
        return np.zeros_like(binary, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def connectivity_phi(pred: FloatArray, gt: FloatArray, *, step: float = CONN_STEP,
                     theta: float = CONN_THETA) -> tuple[FloatArray, FloatArray]:
    """φ maps of DIM ``compute_connectivity_error`` for ``pred`` and ``gt``, both [0, 1] float.

    For each threshold t (step, 2·step, … 1) the largest 4-connected component Ω_t of
    ``pred >= t & gt >= t`` is found; l(p) is the last threshold before p leaves Ω (1 if never);
    d = α − l and φ = 1 − d·[d ≥ θ].
    """
    n = round(1.0 / step)
    thresholds = np.arange(n + 1, dtype=np.float64) / n  # exact 0.1, 0.2, … (no float drift)
    level = np.full(pred.shape, -1.0)
    for i in range(1, n + 1):
        omega = largest_component((pred >= thresholds[i]) & (gt >= thresholds[i]))
        level[(level == -1.0) & ~omega] = thresholds[i - 1]
    level[level == -1.0] = 1.0
    pred_d, gt_d = pred - level, gt - level
    return 1.0 - pred_d * (pred_d >= theta), 1.0 - gt_d * (gt_d >= theta)


def connectivity_error(pred: FloatArray, gt: U8Array, region: BoolArray | None = None,
                       *, step: float = CONN_STEP) -> float:
    """Σ |φ(α̂) − φ(α)| over ``region`` / 1000 (DIM ``compute_connectivity_error``)."""
    pred_phi, gt_phi = connectivity_phi(clean_pred(pred), to_unit(gt), step=step)
    err = np.abs(pred_phi - gt_phi)
    return float(err[_region(err.shape, region)].sum() / 1000.0)


def matte_errors(pred: FloatArray, gt: U8Array, trimap: U8Array | None = None
                 ) -> dict[str, float]:
    """Every matte metric, whole image and (with a trimap) inside ``trimap == 128``.

    Gradients and φ maps are computed once on the whole image and summed over each region.
    """
    p, g = clean_pred(pred), to_unit(gt)
    abs_err = np.abs(p - g)
    sq_err = abs_err**2
    grad_err = (gradient_magnitude(p) - gradient_magnitude(g)) ** 2
    pred_phi, gt_phi = connectivity_phi(p, g)
    conn_err = np.abs(pred_phi - gt_phi)
    regions: dict[str, BoolArray] = {"": np.ones(p.shape, dtype=bool)}
    if trimap is not None:
        regions["_unknown"] = np.asarray(trimap) == 128
    out = {"mae": float(abs_err.mean())}
    for suffix, region in regions.items():
        out["sad" + suffix] = float(abs_err[region].sum() / 1000.0)
        out["mse" + suffix] = float(sq_err[region].mean()) if region.any() else 0.0
        out["grad" + suffix] = float(grad_err[region].sum() / 1000.0)
        out["conn" + suffix] = float(conn_err[region].sum() / 1000.0)
    return out


def mean_metrics(records: list[dict[str, float]]) -> dict[str, float]:
    """Per-metric mean over the records that have it."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return {name: float(np.mean([r[name] for r in records if name in r])) for name in names}
