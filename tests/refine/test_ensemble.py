"""Ensembling and flip TTA: several soft masks fused into one, with real models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphacut.core.fusion import fuse_logits, partners
from helpers import PETS, iou_outside_band, truth_for


def test_a_sure_mask_outvotes_a_half_sure_one() -> None:
    sure = np.array([[0.02, 0.98]], np.float32)
    unsure = np.array([[0.6, 0.4]], np.float32)
    fused = fuse_logits([sure, unsure])
    assert fused[0, 0] < 0.5 < fused[0, 1]


def test_agreeing_masks_fuse_to_themselves_and_weights_pull() -> None:
    m = np.linspace(0.01, 0.99, 50, dtype=np.float32).reshape(5, 10)
    assert np.allclose(fuse_logits([m, m, m]), m, atol=1e-4)
    low, high = np.full((2, 2), 0.2, np.float32), np.full((2, 2), 0.8, np.float32)
    assert fuse_logits([low, high], [3.0, 1.0]).max() < 0.5 < fuse_logits([low, high],
                                                                          [1.0, 3.0]).min()


def test_auto_partner_is_another_model_and_the_primary_is_dropped() -> None:
    assert partners("u2net", ["auto"]) == ["isnet-general"]
    assert partners("isnet-general", ["auto", "u2net"]) == ["u2net"]
    assert partners("u2netp", ["u2netp"]) == []


def _second_model(folder: Path) -> str:
    """A spec file for the cached u2netp weights with other input statistics: a second model
    whose masks differ from u2netp's own."""
    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights

    spec = folder / "u2netp-other.json"
    spec.write_text(json.dumps({"name": "u2netp-other", "input_size": [320, 320],
                                "onnx": str(ensure_weights(get_spec("u2netp"))),
                                "mean": [0.5, 0.5, 0.5], "std": [0.3, 0.3, 0.3]}))
    return str(spec)


@pytest.mark.parametrize("options", [{"tta_flip": True}, {"ensemble": "FILE"}],
                         ids=["flip", "second-model"])
def test_fused_masks_still_find_the_pet(u2netp_remover, options, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if options.get("ensemble") == "FILE":
        options = {"ensemble": _second_model(tmp_path)}
    image = PETS[0]
    truth = truth_for(image)
    plain = u2netp_remover.remove(image, preset="balanced")
    from alphacut.api import Remover

    fused = Remover(model="u2netp", preset="balanced", **options).remove(image)
    assert fused.alpha.shape == truth.shape
    assert np.abs(fused.alpha - plain.alpha).max() > 0.05  # the second pass really ran
    assert iou_outside_band(fused.alpha, truth) >= 0.8
    assert iou_outside_band(fused.alpha, truth) >= iou_outside_band(plain.alpha, truth) - 0.05
