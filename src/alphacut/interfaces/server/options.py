"""HTTP options -> the flat Config options, with the same names the CLI uses.

Form and query values are text; each is converted to the type of its Config field. Unknown
names are an error listing the valid ones, never ignored. A few Config options belong to the
operator, not the client: ``threads``, and ``bg_image`` (a server-side path); ``max_pixels``
may only lower the server's own limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from alphacut.config import Config, parse_background
from alphacut.errors import InvalidOption

OPERATOR_ONLY = frozenset({"threads", "bg_image"})
MASK_OPTIONS = frozenset({"model", "preset", "upsample", "guided_radius", "guided_eps",
                          "matting", "matting_band", "ensemble", "tta_flip", "max_pixels"})
MASK_SIZE = ("width", "height")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def option_types() -> dict[str, type]:
    """Flat option name -> Python type of its value (from Config's own defaults)."""
    base = Config()
    types: dict[str, type] = {"model": str, "max_pixels": int, "bg": str, "preset": str}
    for group in (base.refine, base.output):
        for f in dataclasses.fields(group):
            value = getattr(group, f.name)
            if value is not None:
                types[f.name] = str if isinstance(value, tuple) else type(value)
    return {name: kind for name, kind in types.items() if name in Config.option_names()}


def remove_option_names() -> list[str]:
    """Options ``POST /v1/remove`` accepts."""
    return sorted(set(Config.option_names()) - OPERATOR_ONLY)


def mask_option_names() -> list[str]:
    """Options ``POST /v1/mask`` accepts (``width``/``height`` are the mask's size)."""
    return sorted(MASK_OPTIONS | set(MASK_SIZE))


def parse_options(raw: Mapping[str, str], valid: Iterable[str]) -> dict[str, Any]:
    """Typed options from text values; raises ``InvalidOption`` for unknown names or values."""
    valid = sorted(valid)
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        hint = ""
        if set(unknown) & OPERATOR_ONLY:
            hint = " (threads and bg_image are set by the server operator; upload a " \
                   "background image as the multipart file 'bg')"
        raise InvalidOption(f"unknown option(s) {unknown}{hint}; valid: {', '.join(valid)}")
    types = option_types()
    return {name: convert(name, value, types.get(name, int)) for name, value in raw.items()
            if value != ""}


def convert(name: str, text: str, kind: type) -> Any:
    """One text value as ``kind`` (bool, int, float or str)."""
    text = text.strip()
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise InvalidOption(f"{name} must be true or false, not {text!r}")
    try:
        return kind(text)
    except ValueError:
        raise InvalidOption(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                            f"not {text!r}") from None


def check_background(options: Mapping[str, Any]) -> None:
    """``bg`` must be a colour or ``transparent``: a path would read the server's files."""
    if "bg" in options and parse_background(options["bg"]).get("bg_image") is not None:
        raise InvalidOption(f"bg must be a colour (white, #rrggbb, r,g,b[,a]) or transparent, "
                            f"not {options['bg']!r}; upload a background image as the "
                            "multipart file 'bg'")


def limit_pixels(options: dict[str, Any], server_max: int) -> dict[str, Any]:
    """``max_pixels`` never above the server's limit."""
    return {**options, "max_pixels": min(int(options.get("max_pixels", server_max)), server_max)}


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def openapi_body(names: list[str], *, background: bool) -> dict[str, Any]:
    """OpenAPI for an image endpoint whose body is read by hand: options as query parameters
    or form fields, the image as the raw body or the multipart file ``file``."""
    types = option_types()
    schemas = {name: {"type": _JSON_TYPES[types.get(name, int)]} for name in names}
    binary = {"type": "string", "format": "binary"}
    files: dict[str, Any] = {"file": {**binary, "description": "the image"}}
    if background:
        files["bg"] = {**binary, "description": "optional background image"}
    form = {"type": "object", "required": ["file"], "properties": {**files, **schemas}}
    return {
        "parameters": [{"name": name, "in": "query", "required": False, "schema": schema}
                       for name, schema in schemas.items()],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": form},
            "image/*": {"schema": binary},
            "application/octet-stream": {"schema": binary},
        }},
    }
