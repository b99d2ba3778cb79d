"""Weight-free units of the engine: option schema, preprocessing, soft masks, upsampling."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from alphacut.config import Config, options
from alphacut.core.infer import to_soft_masks
from alphacut.core.mask import upsample_bilinear
from alphacut.core.preprocess import model_input_size, to_tensor
from alphacut.errors import InvalidOption, WeightsError
from alphacut.models.registry import get_spec


@pytest.mark.parametrize("name,value", [("guided_radius", 2147483648), ("crop_margin", 1e23),
                                        ("guided_eps", math.nan), ("quality", 0),
                                        ("matting_band", 0.5), ("upsample", "nearest"),
                                        ("format", "gif"), ("max_pixels", 0)])
def test_out_of_range_options_are_typed_errors(name: str, value: object) -> None:
    with pytest.raises(InvalidOption, match=name if name != "format" else "format"):
        Config.build(**{name: value})


def test_every_option_declares_help_and_a_flag_or_is_internal() -> None:
    infos = options()
    assert len({i.name for i in infos}) == len(infos)
    for info in infos:
        assert info.help and info.flag and info.flag.startswith("--")
    assert set(Config.option_names()) - {"bg_image"} == {i.name for i in infos}


def test_a_refine_option_shows_in_cli_help_and_the_http_document() -> None:
    """Declared once on RefineOptions; the CLI and GET /v1/options pick it up."""
    from alphacut.interfaces.cli import build_parser

    parser = build_parser()
    remove = parser._subparsers._group_actions[0].choices["remove"]  # type: ignore[union-attr]
    flags = {s for a in remove._actions for s in a.option_strings}
    pytest.importorskip("fastapi")
    from alphacut.interfaces.server.options import mask_option_names, options_document

    document = {o["name"]: o for o in options_document("u2netp")["options"]}
    for info in options():
        if info.group == "refine":
            assert info.flag in flags
            assert document[info.name]["help"] == info.help
    band = document["matting_band"]
    assert (band["type"], band["min"], band["max"]) == ("number", 0.0, 0.1)
    assert "threads" not in document  # operator only
    assert "matting_band" in mask_option_names() and "bg" not in mask_option_names()


def test_preprocess_sizes_and_normalisation() -> None:
    u2netp, modnet, rvm = get_spec("u2netp"), get_spec("modnet"), get_spec("rvm")
    flat = np.full((30, 50, 3), 128, np.uint8)
    tensor = to_tensor(flat, u2netp)
    assert tensor.shape == (1, 3, 320, 320) and tensor.dtype == np.float32
    expected = (1.0 - np.array(u2netp.mean)) / np.array(u2netp.std)  # divide_max: 128/128
    assert np.allclose(tensor[0, :, 0, 0], expected, atol=1e-5)
    assert model_input_size(modnet, 300, 500) == (512, 864)  # short side 512, multiples of 32
    assert model_input_size(rvm, 360, 640) == (360, 640)  # max_side never enlarges
    assert model_input_size(rvm, 2160, 3840) == (1080, 1920)


def test_soft_masks_apply_activation_and_keep_every_batch_item() -> None:
    spec = get_spec("u2netp")
    raw = np.stack([np.full((1, 4, 4), v, np.float32) for v in (0.2, 0.9, 1.5)])
    masks = to_soft_masks(raw, spec, 3)
    assert [float(m[0, 0]) for m in masks] == pytest.approx([0.2, 0.9, 1.0])
    sigmoid = get_spec("u2netp").__class__(**{**spec.__dict__, "activation": "sigmoid"})
    assert to_soft_masks(np.zeros((1, 1, 2, 2), np.float32), sigmoid, 1)[0][0, 0] == 0.5
    with pytest.raises(WeightsError):
        to_soft_masks(raw, spec, 2)


def test_bilinear_upsampling_keeps_levels_and_size() -> None:
    mask = np.zeros((8, 8), np.float32)
    mask[:, 4:] = 1.0
    big = upsample_bilinear(mask, (64, 48))
    assert big.shape == (64, 48) and big.dtype == np.float32
    assert big[:, :20].max() == 0.0 and big[:, 28:].min() == 1.0
    assert 0.0 < big[0, 24] < 1.0


def test_spec_json_has_what_another_runtime_needs() -> None:
    data = json.loads(get_spec("rvm").to_json())
    assert data["input_name"] == "src" and data["output_name"] == "pha"
    assert data["sha256"] == get_spec("rvm").sha256 and data["license"] == "GPL-3.0"
    assert ["r1o", "r1i"] in data["state"] and data["ratio_input"] == "downsample_ratio"
    assert data["filename"].endswith(".onnx") and "local_path" not in data
