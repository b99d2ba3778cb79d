"""The model registry: built-in specs by name, plus user spec files for their own .onnx."""

from __future__ import annotations

import json
from pathlib import Path

from alphacut.errors import InvalidOption, UnknownModel
from alphacut.models.spec import ModelSpec, Source

DEFAULT_MODEL = "u2net"


def _builtin() -> dict[str, ModelSpec]:
    from alphacut.models.zoo import birefnet, isnet, modnet, rvm, u2net

    specs: dict[str, ModelSpec] = {}
    for module in (isnet, u2net, modnet, rvm, birefnet):
        for spec in module.SPECS:
            specs[spec.name] = spec
    return specs


_SPECS: dict[str, ModelSpec] = _builtin()


def list_models() -> list[ModelSpec]:
    """All built-in specs, in registry order."""
    return list(_SPECS.values())


def get_spec(name: str) -> ModelSpec:
    """The spec called ``name``, or a spec file's model if ``name`` is a path to one."""
    if name in _SPECS:
        return _SPECS[name]
    if name.endswith((".json", ".onnx")) and Path(name).exists():
        return load_spec_file(Path(name))
    raise UnknownModel(f"unknown model {name!r}; choose one of: {', '.join(_SPECS)}")


_SPEC_FILE_KEYS = {
    "name", "onnx", "sha256", "license", "task", "input_size", "resize", "multiple", "scale",
    "mean", "std", "input_name", "output_index", "activation", "description",
}


def load_spec_file(path: Path) -> ModelSpec:
    """Read a user's spec for their own ONNX file.

    A ``.json`` spec gives at least ``onnx`` (path, relative to the spec file) and
    ``input_size`` ``[h, w]``; every other ModelSpec field is optional. A bare ``.onnx`` path
    gets a 320x320, x/255, ImageNet-normalised, first-output spec.
    """
    if path.suffix == ".onnx":
        data: dict[str, object] = {"onnx": str(path.resolve()), "input_size": [320, 320],
                                   "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    else:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidOption(f"cannot read model spec {path}: {exc}") from exc
    unknown = set(data) - _SPEC_FILE_KEYS
    if unknown:
        raise InvalidOption(f"unknown keys in {path}: {sorted(unknown)}; valid: "
                            f"{sorted(_SPEC_FILE_KEYS)}")
    if "onnx" not in data or "input_size" not in data:
        raise InvalidOption(f"model spec {path} needs 'onnx' and 'input_size'")
    onnx = Path(str(data["onnx"]))
    if not onnx.is_absolute():
        onnx = (path.parent / onnx).resolve()
    size = tuple(int(v) for v in data["input_size"])  # type: ignore[union-attr]
    return ModelSpec(
        name=str(data.get("name", onnx.stem)),
        family="custom",
        task=data.get("task", "general"),  # type: ignore[arg-type]
        license=str(data.get("license", "unknown (user model)")),
        sha256=data.get("sha256"),  # type: ignore[arg-type]
        size_bytes=None,
        sources=(Source("url", url=onnx.as_uri()),),
        input_size=(size[0], size[1]),
        resize=data.get("resize", "fixed"),  # type: ignore[arg-type]
        multiple=int(data.get("multiple", 32)),  # type: ignore[arg-type]
        scale=data.get("scale", "divide_255"),  # type: ignore[arg-type]
        mean=tuple(data.get("mean", (0.0, 0.0, 0.0))),  # type: ignore[arg-type]
        std=tuple(data.get("std", (1.0, 1.0, 1.0))),  # type: ignore[arg-type]
        input_name=data.get("input_name"),  # type: ignore[arg-type]
        output_index=int(data.get("output_index", 0)),  # type: ignore[arg-type]
        activation=data.get("activation", "none"),  # type: ignore[arg-type]
        description=str(data.get("description", f"user model {onnx.name}")),
        local_path=str(onnx),
    )
