"""remove.bg's request fields -> one checked ``RemoveBgRequest`` (flat alphacut options inside).

Every field remove.bg documents for ``POST /v1.0/removebg`` is known here; anything else is a
400. Values are remove.bg's (``size=preview``, ``roi="0% 0% 100% 100%"``, ``bg_color=81d4fa``,
``position="50% 100%"``...) and are translated to the engine's flat option names
(docs/removebg.md has the table). Options another part of alphacut owns (``roi``, ``scale``,
``position``, shadows, margins in %) are passed on only when this build's config has them;
otherwise the field is refused with a remove.bg-shaped "not supported yet" error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

FIELDS = frozenset({
    "image_file", "image_file_b64", "image_url", "size", "type", "type_level", "format", "roi",
    "crop", "crop_margin", "scale", "position", "channels", "add_shadow", "shadow_type",
    "shadow_opacity", "semitransparency", "bg_color", "bg_image_url", "bg_image_file",
})
SOURCES = ("image_file", "image_file_b64", "image_url")
BACKGROUNDS = ("bg_color", "bg_image_url", "bg_image_file")
MP = 1_000_000
SIZES = {"preview": MP // 4, "small": MP // 4, "regular": MP // 4, "medium": 3 * MP // 2,
         "hd": 4 * MP, "full": 25 * MP, "4k": 25 * MP, "auto": 25 * MP, "50mp": 50 * MP}
TYPES = ("auto", "person", "product", "car", "animal", "graphic", "transportation")
TYPE_LEVELS = ("none", "1", "2", "latest")
FORMATS = ("auto", "png", "jpg", "zip", "webp")
CHANNELS = ("rgba", "alpha")
SHADOWS = {"drop": "drop", "car": "contact", "3d": "contact", "none": None}
_NUMBER = r"-?\d+(?:\.\d+)?"
_LENGTH = re.compile(rf"^({_NUMBER})(px|%)?$")


class RemoveBgError(Exception):
    """An error in remove.bg's shape: ``{"errors": [{"title", "code", "detail"}]}``."""

    def __init__(self, title: str, code: str, status: int = 400, detail: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.title, self.code, self.status = title, code, status
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error = {"title": self.title, "code": self.code}
        if self.detail:
            error["detail"] = self.detail
        return {"errors": [error]}


@dataclass
class RemoveBgRequest:
    """One checked request.

    - ``image``: the upload's bytes, or None with ``image_url`` set; likewise ``background`` /
      ``background_url``.
    - ``max_pixels``: remove.bg's ``size`` as an output pixel budget (the photo is scaled
      down to it first); ``format``: auto/png/jpg/zip/webp; ``alpha_only``: channels=alpha.
    - ``type`` / ``type_level``: what X-Type reports (and ``person`` picks a people model).
    - ``options``: flat alphacut options (``crop``, ``crop_margin``, ``bg``, ``roi``...).
    """

    image: bytes | None = None
    image_url: str | None = None
    background: bytes | None = None
    background_url: str | None = None
    max_pixels: int = SIZES["preview"]
    format: str = "auto"
    alpha_only: bool = False
    type: str = "auto"
    type_level: str = "1"
    options: dict[str, Any] = field(default_factory=dict)


def parse_request(fields: Mapping[str, str], files: Mapping[str, bytes],
                  supported: Collection[str], crop_margin_kind: type = str) -> RemoveBgRequest:
    """Check every field; ``supported``: the flat option names this build's config has;
    ``crop_margin_kind``: ``int`` while the config's margin is whole pixels only."""
    unknown = sorted((set(fields) | set(files)) - FIELDS)
    if unknown:
        raise RemoveBgError(f"Unknown parameter: {unknown[0]}", "unknown_parameter",
                            detail=f"valid parameters: {', '.join(sorted(FIELDS))}")
    request = RemoveBgRequest()
    _sources(request, fields, files)
    _backgrounds(request, fields, files)
    _choices(request, fields)
    request.options = _options(fields, supported, crop_margin_kind)
    if request.alpha_only:
        request.options.pop("bg", None)
        request.background = request.background_url = None
    return request


def _sources(request: RemoveBgRequest, fields: Mapping[str, str],
             files: Mapping[str, bytes]) -> None:
    given = [name for name in SOURCES if name in files or fields.get(name)]
    if not given:
        raise RemoveBgError("No image given", "missing_source",
                            detail="send image_file, image_file_b64 or image_url")
    if len(given) > 1:
        raise RemoveBgError("Multiple image sources given", "multiple_sources",
                            detail=f"send only one of: {', '.join(given)}")
    if given[0] == "image_file":
        request.image = files.get("image_file") or fields["image_file"].encode("latin-1")
    elif given[0] == "image_file_b64":
        request.image = _base64(fields["image_file_b64"], "image_file_b64")
    else:
        request.image_url = fields["image_url"].strip()


def _backgrounds(request: RemoveBgRequest, fields: Mapping[str, str],
                 files: Mapping[str, bytes]) -> None:
    given = [name for name in BACKGROUNDS if name in files or fields.get(name)]
    if len(given) > 1:
        raise RemoveBgError("Multiple backgrounds given", "multiple_backgrounds",
                            detail=f"send only one of: {', '.join(given)}")
    if "bg_image_file" in given:
        request.background = files.get("bg_image_file") or \
            fields["bg_image_file"].encode("latin-1")
    elif "bg_image_url" in given:
        request.background_url = fields["bg_image_url"].strip()


def _choices(request: RemoveBgRequest, fields: Mapping[str, str]) -> None:
    size = fields.get("size", "preview").strip().lower() or "preview"
    if size not in SIZES:
        raise _invalid("size", size, "preview, full, auto, 50MP, medium, hd, 4k, small, regular")
    request.max_pixels = SIZES[size]
    request.format = _choice(fields, "format", FORMATS, "auto")
    request.alpha_only = _choice(fields, "channels", CHANNELS, "rgba") == "alpha"
    request.type = _choice(fields, "type", TYPES, "auto")
    request.type_level = _choice(fields, "type_level", TYPE_LEVELS, "1")
    _bool(fields, "semitransparency", True)  # alphacut's matte is always soft: checked only


def _options(fields: Mapping[str, str], supported: Collection[str],
             crop_margin_kind: type) -> dict[str, Any]:
    """The flat alphacut options these fields ask for (refused when not in ``supported``)."""
    options: dict[str, Any] = {}
    crop = _bool(fields, "crop", False)
    if crop:
        options["crop"] = True
        options["crop_margin"] = _crop_margin(fields.get("crop_margin", "0"), crop_margin_kind)
    if fields.get("bg_color"):
        options["bg"] = parse_bg_color(fields["bg_color"])
    if fields.get("roi"):
        options["roi"] = parse_roi(fields["roi"])
    scale = fields.get("scale", "original").strip().lower() or "original"
    if scale != "original":
        options["scale"] = parse_scale(scale)
    position = parse_position(fields.get("position", ""), "scale" in options)
    if position is not None and not (position == "original" and "position" not in supported):
        options["position"] = position  # (original needs no layout step where there is none)
    options.update(_shadow(fields))
    for name in options:
        if name not in supported:
            raise RemoveBgError(f"Parameter not supported yet: {_field_of(name)}",
                                "unsupported_parameter",
                                detail=f"this alphacut server cannot do {_field_of(name)} yet")
    return options


def _field_of(option: str) -> str:
    names = {"bg": "bg_color", "shadow": "add_shadow/shadow_type",
             "shadow_opacity": "shadow_opacity"}
    return names.get(option, option)


def _shadow(fields: Mapping[str, str]) -> dict[str, Any]:
    shadow = "drop" if _bool(fields, "add_shadow", False) else None
    if fields.get("shadow_type"):
        kind = fields["shadow_type"].strip().lower()
        if kind not in SHADOWS:
            raise _invalid("shadow_type", kind, "drop, car, 3D, none")
        shadow = SHADOWS[kind]
    options: dict[str, Any] = {} if shadow is None else {"shadow": shadow}
    if fields.get("shadow_opacity") and shadow is not None:
        value = fields["shadow_opacity"].strip()
        if not value.isdigit() or not 0 <= int(value) <= 100:
            raise _invalid("shadow_opacity", value, "a whole number 0..100")
        options["shadow_opacity"] = int(value) / 100
    return options


# ------------------------------------------------------------------ value syntax


def parse_bg_color(text: str) -> tuple[int, int, int, int]:
    """``81d4fa``, ``#fff``, ``81d4fa77``, ``fff7`` or a CSS colour name -> (r, g, b, a)."""
    value = text.strip().lower()
    digits = value.lstrip("#")
    if re.fullmatch(r"[0-9a-f]{3,4}", digits):
        digits = "".join(c * 2 for c in digits)
    if re.fullmatch(r"[0-9a-f]{6}([0-9a-f]{2})?", digits):
        rgba = [int(digits[i:i + 2], 16) for i in range(0, len(digits), 2)]
        return (rgba[0], rgba[1], rgba[2], rgba[3] if len(rgba) == 4 else 255)
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(value)
    except ValueError:
        raise _invalid("bg_color", text, "a hex colour (81d4fa, fff, 81d4fa77) or a colour "
                       "name") from None
    return (rgb[0], rgb[1], rgb[2], rgb[3] if len(rgb) == 4 else 255)


def _lengths(text: str, name: str) -> list[tuple[str, str]]:
    """``"10px 20% 30"`` (spaces or commas) -> [("10", "px"), ("20", "%"), ("30", "px")]."""
    out = []
    for part in re.split(r"[\s,]+", text.strip()):
        match = _LENGTH.match(part.lower())
        if not match:
            raise _invalid(name, text, "numbers with px or %, e.g. '30px' or '10%'")
        out.append((match.group(1), match.group(2) or "px"))
    return out


def parse_roi(text: str) -> str:
    """remove.bg's ``"x1 y1 x2 y2"`` (px or %) -> alphacut's ``"x1,y1,x2,y2"`` (px bare)."""
    values = _lengths(text, "roi")
    if len(values) != 4:
        raise _invalid("roi", text, "four values '<x1> <y1> <x2> <y2>', e.g. '0% 0% 100% 100%'")
    return ",".join(v + ("%" if unit == "%" else "") for v, unit in values)


def scale_roi(roi: str, factor: float) -> str:
    """alphacut's ``"x1,y1,x2,y2"`` with its pixel values times ``factor`` (percentages as
    they are): the box on a photo scaled down for ``size``."""
    return ",".join(v if v.endswith("%") else f"{float(v) * factor:.2f}" for v in roi.split(","))


def _crop_margin(text: str, kind: type) -> str | int:
    """remove.bg's margin (1, 2 or 4 values, px or %) -> alphacut's ``crop_margin``."""
    values = _lengths(text or "0", "crop_margin")
    if len(values) not in (1, 2, 4):
        raise _invalid("crop_margin", text, "1, 2 or 4 values, e.g. '30px' or '10% 5%'")
    if any(float(v) < 0 for v, _ in values):
        raise _invalid("crop_margin", text, "margins of 0 or more")
    if kind is int:  # this build's margin is one whole number of pixels
        (value, unit), *rest = values
        if rest or unit == "%" or not value.isdigit():
            raise RemoveBgError("Parameter not supported yet: crop_margin in % or per side",
                                "unsupported_parameter",
                                detail="this alphacut server takes one margin in whole pixels")
        return int(value)
    return ",".join(v + ("%" if unit == "%" else "px") for v, unit in values)


def parse_scale(text: str) -> str:
    """``"10%"`` .. ``"100%"`` -> the same string (alphacut's ``scale``)."""
    match = re.fullmatch(rf"({_NUMBER})%", text.strip())
    if not match or not 10 <= float(match.group(1)) <= 100:
        raise _invalid("scale", text, "'original' or 10% to 100%")
    return f"{match.group(1)}%"


def parse_position(text: str, scaled: bool) -> str | None:
    """Not given -> None (``center`` when scaled, as remove.bg); ``original``; ``center``;
    ``"x%"`` or ``"x% y%"`` -> alphacut's ``"x%,y%"`` (percent of the free space)."""
    value = text.strip().lower()
    if not value:
        return "center" if scaled else None
    if value in ("original", "center"):
        return value
    parts = re.split(r"[\s,]+", value)
    matches = [re.fullmatch(rf"({_NUMBER})%", p) for p in parts]
    if len(parts) not in (1, 2) or not all(matches) or not all(
            0 <= float(m.group(1)) <= 100 for m in matches if m):
        raise _invalid("position", text, "'original', 'center', or one or two of 0%..100%")
    numbers = [m.group(1) + "%" for m in matches if m]
    return ",".join(numbers * 2 if len(numbers) == 1 else numbers)


def _base64(text: str, name: str) -> bytes:
    import base64
    import binascii

    data = re.sub(r"\s+", "", text)
    if data.startswith("data:") and "," in data:  # a data: URL's payload
        data = data.split(",", 1)[1]
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(name, "(not shown)", "base64-encoded image bytes") from None


def _choice(fields: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = fields.get(name, default).strip().lower() or default
    if value not in choices:
        raise _invalid(name, value, ", ".join(choices))
    return value


def _bool(fields: Mapping[str, str], name: str, default: bool) -> bool:
    value = fields.get(name, "").strip().lower()
    if value == "":
        return default
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise _invalid(name, value, "true or false")


def _invalid(name: str, value: str, valid: str) -> RemoveBgError:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return RemoveBgError(f"Invalid value for {name}: {shown!r}", "invalid_parameter",
                         detail=f"valid: {valid}")
