"""The model registry: built-in specs by name, plus user spec files for their own .onnx."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

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
    if isinstance(name, str) and name in _SPECS:
        return _SPECS[name]
    if isinstance(name, str) and name.endswith((".json", ".onnx")) and "\0" not in name \
            and Path(name).is_file():
        return load_spec_file(Path(name))
    shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:77] + "..."
    raise UnknownModel(f"unknown model {shown}; choose one of: {', '.join(_SPECS)}")


_SPEC_FILE_KEYS = {
    "name", "onnx", "sha256", "license", "task", "input_size", "resize", "multiple", "scale",
    "mean", "std", "input_name", "output_index", "activation", "description",
}
SPEC_FILE_MAX_BYTES = 1 << 20
_LITERALS: dict[str, tuple[str, ...]] = {
    "task": ("general", "portrait-matting", "video-matting"),
    "resize": ("fixed", "short_side", "max_side"),
    "scale": ("divide_255", "divide_max"),
    "activation": ("none", "sigmoid"),
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+-]{0,127}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SIDE = (8, 8192)  # input_size bounds, pixels
_MULTIPLE = (1, 1024)
_MAX_INDEX = 1023
_MAX_NORM = 1e6  # |mean| and std bounds


def load_spec_file(path: Path) -> ModelSpec:
    """Read a user's spec for their own ONNX file.

    A ``.json`` spec gives at least ``onnx`` (path, relative to the spec file) and
    ``input_size`` ``[h, w]``; every other ModelSpec field is optional. A bare ``.onnx`` path
    gets a 320x320, x/255, ImageNet-normalised, first-output spec. Every key is checked (type,
    range, allowed values): a bad one is an ``InvalidOption`` naming the key.
    """
    if path.suffix == ".onnx":
        data: Any = {"onnx": str(path.resolve()), "input_size": [320, 320],
                     "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    else:
        data = _read_json(path)
    if not isinstance(data, dict):
        raise InvalidOption(f"model spec {path} must be a JSON object of keys, not "
                            f"{_json_kind(data)}")
    unknown = sorted(str(k) for k in set(data) - _SPEC_FILE_KEYS)
    if unknown:
        raise InvalidOption(f"unknown keys in {path}: {unknown}; valid: "
                            f"{sorted(_SPEC_FILE_KEYS)}")
    if "onnx" not in data or "input_size" not in data:
        raise InvalidOption(f"model spec {path} needs 'onnx' and 'input_size'")
    return _spec_from(path, data)


def _read_json(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            raw = handle.read(SPEC_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidOption(f"cannot read model spec {path}: {exc.strerror or exc}") from exc
    if len(raw) > SPEC_FILE_MAX_BYTES:
        raise InvalidOption(f"model spec {path} is over {SPEC_FILE_MAX_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidOption(f"model spec {path} is not valid JSON: {reason}") from exc


def _spec_from(path: Path, data: dict[str, Any]) -> ModelSpec:
    """The ModelSpec of a spec file's checked keys."""
    where = f"model spec {path}"
    onnx_text = _text(data, "onnx", where, limit=4096)
    onnx = Path(onnx_text)
    if not onnx.is_absolute():
        onnx = (path.parent / onnx).resolve()
    size = _ints(data, "input_size", where, 2, *_SIDE)
    sha256 = data.get("sha256")
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        raise InvalidOption(f"{where}: 'sha256' must be 64 hex digits, not {_short(sha256)}")
    name = data.get("name", _safe_name(onnx.stem))
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise InvalidOption(f"{where}: 'name' must be 1-128 letters, digits, spaces or ._+- "
                            f"(starting with a letter or digit), not {_short(name)}")
    input_name = data.get("input_name")
    if input_name is not None:
        input_name = _text(data, "input_name", where, limit=1024)
    return ModelSpec(
        name=name,
        family="custom",
        task=_choice(data, "task", "general", where),  # type: ignore[arg-type]
        license=_text(data, "license", where, default="unknown (user model)"),
        sha256=sha256.lower() if sha256 else None,
        size_bytes=None,
        sources=(Source("url", url=onnx.as_uri()),),
        input_size=(size[0], size[1]),
        resize=_choice(data, "resize", "fixed", where),  # type: ignore[arg-type]
        multiple=_ints(data, "multiple", where, 0, *_MULTIPLE, default=32)[0],
        scale=_choice(data, "scale", "divide_255", where),  # type: ignore[arg-type]
        mean=_floats(data, "mean", where, (0.0, 0.0, 0.0), positive=False),
        std=_floats(data, "std", where, (1.0, 1.0, 1.0), positive=True),
        input_name=input_name,
        output_index=_ints(data, "output_index", where, 0, 0, _MAX_INDEX, default=0)[0],
        activation=_choice(data, "activation", "none", where),  # type: ignore[arg-type]
        description=_text(data, "description", where, default=f"user model {onnx.name}"),
        local_path=str(onnx),
    )


def _safe_name(stem: str) -> str:
    """A valid spec name from a file stem (characters outside the name rule become '-')."""
    cleaned = re.sub(r"[^A-Za-z0-9 ._+-]", "-", stem).lstrip(" ._+-")[:128]
    return cleaned or "custom"


def _text(data: dict[str, Any], key: str, where: str, *, default: str | None = None,
          limit: int = 2000) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value or len(value) > limit or "\0" in value:
        raise InvalidOption(f"{where}: {key!r} must be a non-empty string of at most {limit} "
                            f"characters, not {_short(value)}")
    return value


def _choice(data: dict[str, Any], key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or value not in _LITERALS[key]:
        raise InvalidOption(f"{where}: {key!r} must be one of {', '.join(_LITERALS[key])}, not "
                            f"{_short(value)}")
    return value


def _ints(data: dict[str, Any], key: str, where: str, count: int, lo: int, hi: int, *,
          default: int | None = None) -> list[int]:
    """``count`` whole numbers in lo..hi (``count`` 0: one bare number)."""
    value = data.get(key, default)
    values = value if count else [value]
    ok = isinstance(values, list) and len(values) == max(count, 1) and all(
        isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in values)
    if not ok:
        shape = f"a list of {count} whole numbers" if count else "a whole number"
        raise InvalidOption(f"{where}: {key!r} must be {shape} in {lo}..{hi}, not "
                            f"{_short(value)}")
    return list(values)


def _floats(data: dict[str, Any], key: str, where: str, default: tuple[float, float, float],
            *, positive: bool) -> tuple[float, float, float]:
    """Three finite numbers (one per RGB channel); ``positive``: each above 0."""
    value = data.get(key, list(default))
    numbers = value if isinstance(value, list) and len(value) == 3 else None
    if numbers is not None and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                   for v in numbers):
        floats = [_finite(v) for v in numbers]
        lo = 0.0 if positive else -_MAX_NORM
        if all(f is not None and lo <= f <= _MAX_NORM and (f > 0 or not positive)
               for f in floats):
            return (float(numbers[0]), float(numbers[1]), float(numbers[2]))
    rule = "above 0 and at most" if positive else "within +-"
    raise InvalidOption(f"{where}: {key!r} must be 3 numbers (R, G, B) {rule} {_MAX_NORM:g}, "
                        f"not {_short(value)}")


def _finite(value: float) -> float | None:
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    """A value for an error message: its repr, cut to 60 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(value))
    return text if len(text) <= 60 else text[:57] + "..."
