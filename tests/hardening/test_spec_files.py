"""User model spec files (``--model my.json``): every key checked, graph mismatches exit 3.

The real u2netp .onnx (input ``input.1``, fixed 1x3x320x320) with wrong spec files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alphacut.errors import InvalidOption, WeightsError
from alphacut.models.registry import get_spec, load_spec_file
from helpers import PETS

CLI = [sys.executable, "-m", "alphacut.interfaces.cli"]


@pytest.fixture(scope="module")
def u2netp_onnx() -> Path:
    from alphacut.runtime.weights import ensure_weights

    return ensure_weights(get_spec("u2netp"))


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "my.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", ["[1, 2]", "3", "null", '"u2netp"', "true", "[" * 100_000,
                                  "{" * 50_000, "", "\xff\xfe", '{"onnx": 1', " " * 2_000_000])
def test_a_spec_file_that_is_not_an_object_is_an_invalid_option(tmp_path: Path, text: str
                                                                ) -> None:
    with pytest.raises(InvalidOption, match=r"my\.json"):
        load_spec_file(write_spec(tmp_path, text))


BAD_VALUES: list[tuple[str, str]] = [
    ("input_size", "[0, 0]"), ("input_size", "[320]"), ("input_size", '"320"'),
    ("input_size", "[320.5, 320]"), ("input_size", "[true, true]"), ("input_size", "[-1, 5]"),
    ("input_size", "[1e30, 5]"), ("input_size", "[100000000000000000000000, 5]"),
    ("input_size", "null"), ("input_size", '[320, "a"]'), ("input_size", "[[320], [320]]"),
    ("mean", "[0, 0]"), ("mean", '"x"'), ("mean", "[NaN, 0, 0]"), ("mean", "[1e400, 0, 0]"),
    ("mean", "[null, 0, 0]"), ("mean", "[true, 0, 0]"), ("mean", "{}"),
    ("std", "[0, 1, 1]"), ("std", "[-1, 1, 1]"), ("std", "[1, 1]"), ("std", "[Infinity, 1, 1]"),
    ("multiple", "0"), ("multiple", "-32"), ("multiple", "1.5"), ("multiple", '"32"'),
    ("multiple", "100000000000000000000"), ("multiple", "true"),
    ("input_name", "5"), ("input_name", '""'), ("input_name", '["a"]'),
    ("output_index", "-1"), ("output_index", "1.0"), ("output_index", '"0"'),
    ("output_index", "100000000000000000000"),
    ("resize", '"huge"'), ("resize", "1"), ("resize", "null"),
    ("scale", '"divide_256"'), ("scale", "[]"), ("activation", '"relu"'),
    ("activation", "false"), ("task", '"x"'), ("name", '"../x"'), ("name", '""'),
    ("name", "5"), ("sha256", '"abc"'), ("sha256", "5"), ("onnx", "5"), ("onnx", '""'),
    ("onnx", "null"), ("onnx", '"a\\u0000b.onnx"'), ("license", "5"), ("description", "[]"),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_every_key_is_checked_and_named(tmp_path: Path, u2netp_onnx: Path, key: str,
                                        value: str) -> None:
    doc = {"onnx": json.dumps(str(u2netp_onnx)), "input_size": "[320, 320]", key: value}
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in doc.items()) + "}"
    with pytest.raises(InvalidOption, match=f"'{key}'"):
        load_spec_file(write_spec(tmp_path, text))


def test_a_good_spec_file_keeps_every_value(tmp_path: Path, u2netp_onnx: Path) -> None:
    doc = {"name": "my-u2netp", "onnx": str(u2netp_onnx), "input_size": [320, 320],
           "resize": "fixed", "multiple": 32, "scale": "divide_max", "mean": [0.485, 0.456, 0.406],
           "std": [0.229, 0.224, 0.225], "input_name": "input.1", "output_index": 0,
           "activation": "none", "task": "general", "license": "Apache-2.0",
           "sha256": "A" * 64, "description": "mine"}
    spec = load_spec_file(write_spec(tmp_path, json.dumps(doc)))
    assert (spec.name, spec.input_size, spec.scale, spec.std, spec.input_name) == \
        ("my-u2netp", (320, 320), "divide_max", (0.229, 0.224, 0.225), "input.1")
    assert spec.sha256 == "a" * 64 and spec.local_path == str(u2netp_onnx)
    odd = tmp_path / "my model (v2).onnx"
    shutil.copy(u2netp_onnx, odd)
    assert load_spec_file(odd).name == "my model -v2-"


@pytest.mark.parametrize("name", [123, None, ["u2netp"], "a\0b.json", "x" * 10_000])
def test_get_spec_refuses_odd_names_with_a_typed_error(name: object) -> None:
    with pytest.raises(InvalidOption):
        get_spec(name)  # type: ignore[arg-type]


def remove_with(spec: Path) -> subprocess.CompletedProcess[bytes]:
    out = spec.parent / "out.png"
    return subprocess.run([*CLI, "remove", str(PETS[0]), "-o", str(out), "-m", str(spec), "-q"],
                          capture_output=True, timeout=300)


@pytest.mark.model
@pytest.mark.parametrize(("extra", "needle"), [
    ({"input_size": [1024, 1024]}, b"input_size"),
    ({"input_size": [320, 320], "resize": "max_side"}, b"input_size"),
    ({"input_size": [320, 320], "input_name": "image"}, b"image"),
])
def test_a_spec_the_graph_refuses_is_a_model_error(tmp_path: Path, u2netp_onnx: Path,
                                                   extra: dict[str, object], needle: bytes
                                                   ) -> None:
    spec = write_spec(tmp_path, json.dumps({"name": "wrong-u2netp", "onnx": str(u2netp_onnx),
                                            **extra}))
    run = remove_with(spec)
    assert run.returncode == 3, run.stderr
    assert b"wrong-u2netp" in run.stderr and needle in run.stderr
    assert b"Traceback" not in run.stderr


@pytest.mark.model
def test_a_spec_file_run_directly_raises_weights_error(tmp_path: Path, u2netp_onnx: Path
                                                       ) -> None:
    from alphacut.api import Remover

    spec = write_spec(tmp_path, json.dumps({"onnx": str(u2netp_onnx),
                                            "input_size": [640, 640]}))
    with pytest.raises(WeightsError, match="input_size"):
        Remover(model=str(spec)).remove(PETS[0])


@pytest.mark.model
def test_multiple_zero_is_refused_before_the_run(tmp_path: Path, u2netp_onnx: Path) -> None:
    spec = write_spec(tmp_path, json.dumps({"onnx": str(u2netp_onnx), "input_size": [320, 320],
                                            "resize": "max_side", "multiple": 0}))
    run = remove_with(spec)
    assert run.returncode == 2 and b"'multiple'" in run.stderr
