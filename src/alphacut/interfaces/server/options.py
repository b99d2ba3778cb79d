"""HTTP options -> the flat Config options, with the same names the CLI uses.

Which options an endpoint takes, and their types, come from the config's option metadata
(``config.options``). Form and query values are text; each is converted to its option's type.
Unknown names are an error listing the valid ones, never ignored. Options marked operator-only
(``threads``), and ``bg_image`` (a server-side path), are not the client's; ``max_pixels`` may
only lower the server's own limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from alphacut.config import options, parse_background
from alphacut.errors import InvalidOption

MASK_SIZE = ("width", "height")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def operator_only() -> frozenset[str]:
    """Options a client may not set."""
    return frozenset({i.name for i in options() if not i.client} | {"bg_image"})


def option_types() -> dict[str, type]:
    """Flat option name -> the type of its value as a client sends it."""
    return {info.name: info.kind for info in options()}


def endpoint_options(endpoint: str) -> list[str]:
    """Options the image endpoint ``endpoint`` (``remove`` or ``mask``) accepts."""
    return sorted(i.name for i in options() if i.client and endpoint in i.endpoints)


def remove_option_names() -> list[str]:
    """Options ``POST /v1/remove`` accepts."""
    return endpoint_options("remove")


def mask_option_names() -> list[str]:
    """Options ``POST /v1/mask`` accepts (``width``/``height`` are the mask's size)."""
    return sorted([*endpoint_options("mask"), *MASK_SIZE])


def parse_options(raw: Mapping[str, str], valid: Iterable[str]) -> dict[str, Any]:
    """Typed options from text values; raises ``InvalidOption`` for unknown names or values."""
    valid = sorted(valid)
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        hint = ""
        if set(unknown) & operator_only():
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


def check_strokes(options: dict[str, Any], picture: bytes | None) -> None:
    """``strokes`` as a field must be JSON polylines (a path would read the server's files);
    an uploaded stroke picture (the multipart file ``strokes``) becomes the option."""
    from alphacut.core.refine.strokes import is_json

    text = options.get("strokes")
    if text is not None and not is_json(str(text)):
        raise InvalidOption("strokes must be JSON polylines {\"keep\": [[[x, y], ...]], "
                            "\"remove\": [...], \"width\": px}; upload a stroke picture as "
                            "the multipart file 'strokes'")
    if picture is not None:
        if text is not None:
            raise InvalidOption("give either strokes as JSON or a stroke picture, not both")
        options["strokes"] = picture


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
    files["strokes"] = {**binary, "description": "optional stroke picture (white keep, "
                        "black remove); or send strokes as a JSON form field"}
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


def options_document(default_model: str) -> dict[str, Any]:
    """``GET /v1/options``: every client option (type, default, range, choices, help, group,
    endpoints), the presets' settings and the output formats, for the web page and clients."""
    from alphacut.config import PRESETS, preset_refine
    from alphacut.formats import TABLE

    described = [i.describe() for i in options() if i.client]
    presets = {name: {k: list(v) if isinstance(v, tuple) else v
                      for k, v in preset_refine(name).items()} for name in PRESETS}
    formats = [{"name": f.name, "extensions": list(f.extensions), "mime": f.mime,
                "alpha": f.alpha, "writable": f.writable, "max_side": f.max_side}
               for f in TABLE]
    return {"options": described, "presets": presets, "formats": formats,
            "default_model": default_model}
