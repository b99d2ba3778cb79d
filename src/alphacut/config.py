"""One frozen, validated config for every front door.

Front doors speak in flat option names (the CLI's flags, the HTTP form fields); ``Config.build``
maps them onto the four groups. Unknown names and bad values raise ``InvalidOption`` with the
valid choices. Defaults live here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from alphacut.errors import InvalidOption
from alphacut.formats import DEFAULT_MAX_PIXELS
from alphacut.formats import OUTPUT_FORMATS as FORMATS
from alphacut.models.registry import DEFAULT_MODEL

OutputFormat = Literal["png", "webp", "tiff", "jpeg"]
UPSAMPLERS: tuple[str, ...] = ("guided", "bilinear")
PRESETS: tuple[str, ...] = ("fast", "balanced", "best")


@dataclass(frozen=True)
class RuntimeOptions:
    """How to run the model: ONNX Runtime threads (None: all cores)."""

    threads: int | None = None


@dataclass(frozen=True)
class RefineOptions:
    """How the soft mask becomes the final matte and clean foreground colours.

    Defaults are the ``balanced`` preset, each measured on ../shared/evaldata
    (benchmarks/quality.py; numbers in docs/quality.md).

    - ``upsample``: ``guided`` (edge-aware, full-resolution guide) or ``bilinear``.
    - ``guided_radius``/``guided_eps``: guided filter window (pixels at working resolution) and
      regulariser (on [0, 1] intensities).
    - ``matting``: solve closed-form matting in the uncertain band (core/refine/matting).
    - ``matting_band``: extra band width around soft edges, as a fraction of the long side
      (wider: more hair recovered, crisp object edges a little softer).
    - ``decontaminate``: estimate clean foreground colours at the edge (blur-fusion).
    - ``ensemble``: other models whose masks are fused in (``auto``: the measured partner of
      the main model); a comma-separated string is accepted.
    - ``tta_flip``: also run the model on the mirrored photo and fuse (helps isnet-general,
      hurts u2net and u2netp).
    """

    upsample: str = "bilinear"
    guided_radius: int = 4
    guided_eps: float = 1e-3
    matting: bool = True
    matting_band: float = 0.0
    decontaminate: bool = True
    ensemble: tuple[str, ...] = ()
    tta_flip: bool = False

    def __post_init__(self) -> None:
        names = self.ensemble
        if isinstance(names, str):
            names = tuple(n.strip() for n in names.split(",") if n.strip())
        names = tuple(str(n) for n in names)
        if any(n.lower() in ("none", "off") for n in names):
            names = ()
        object.__setattr__(self, "ensemble", names)
        if not 0.0 <= self.matting_band <= 0.1:
            raise InvalidOption("matting_band must be within 0..0.1 (fraction of the long side)")
        for name in names:
            if name != "auto":
                from alphacut.models.registry import get_spec

                get_spec(name)


@dataclass(frozen=True)
class OutputOptions:
    """What to write: a cut-out, a mask, or the subject over a colour/image, maybe cropped."""

    format: str = "png"
    mask_only: bool = False
    bg_color: tuple[int, int, int, int] | None = None
    bg_image: str | None = None
    crop: bool = False
    crop_margin: int = 16
    quality: int = 92
    png_compress_level: int = 1


@dataclass(frozen=True)
class Config:
    """The whole request: which model, how to run it, how to refine, what to write."""

    model: str = DEFAULT_MODEL
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)
    refine: RefineOptions = field(default_factory=RefineOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    max_pixels: int = DEFAULT_MAX_PIXELS

    @classmethod
    def build(cls, **options: Any) -> Config:
        """Build from flat option names; ``None`` values mean "use the default"."""
        return _build(cls(), {k: v for k, v in options.items() if v is not None})

    def replace(self, **options: Any) -> Config:
        """A copy with some flat options changed."""
        return _build(self, {k: v for k, v in options.items() if v is not None})

    @staticmethod
    def option_names() -> list[str]:
        return sorted(_FLAT)


def _group_fields(group: type) -> dict[str, str]:
    return {f.name: f.name for f in dataclasses.fields(group)}


# flat option name -> (group attribute or "" for top level, field name)
_FLAT: dict[str, tuple[str, str]] = {
    "model": ("", "model"),
    "max_pixels": ("", "max_pixels"),
    "threads": ("runtime", "threads"),
    **{name: ("refine", name) for name in _group_fields(RefineOptions)},
    **{name: ("output", name) for name in _group_fields(OutputOptions) if name != "bg_color"},
    "bg": ("output", "bg"),
    "preset": ("", "preset"),
}


def _build(base: Config, options: dict[str, Any]) -> Config:
    unknown = sorted(set(options) - set(_FLAT))
    if unknown:
        raise InvalidOption(f"unknown option(s) {unknown}; valid: {', '.join(sorted(_FLAT))}")
    groups: dict[str, dict[str, Any]] = {"": {}, "runtime": {}, "refine": {}, "output": {}}
    if "preset" in options:
        groups["refine"].update(preset_refine(str(options.pop("preset"))))
    for name, value in options.items():
        group, attr = _FLAT[name]
        if name == "bg":
            groups["output"].update(parse_background(value))
        else:
            groups[group][attr] = value
    config = dataclasses.replace(
        base,
        runtime=dataclasses.replace(base.runtime, **groups["runtime"]),
        refine=dataclasses.replace(base.refine, **groups["refine"]),
        output=dataclasses.replace(base.output, **groups["output"]),
        **groups[""],
    )
    _validate(config)
    return config


def preset_refine(name: str) -> dict[str, Any]:
    """Refinement settings for a quality preset (measured: benchmarks/quality.py).

    - ``fast``: the model's mask, bilinear resize, the photo's colours: the model's cost only.
    - ``balanced`` (the defaults): matting in the uncertain band, blur-fusion decontamination;
      one model.
    - ``best``: balanced plus the ``auto`` partner model fused in (for u2net that is
      isnet-general, whose weights are AGPL-3.0; for the isnet models, u2net).
    """
    balanced: dict[str, Any] = {"upsample": "bilinear", "matting": True, "matting_band": 0.0,
                                "decontaminate": True, "ensemble": (), "tta_flip": False}
    presets: dict[str, dict[str, Any]] = {
        "fast": {**balanced, "matting": False, "decontaminate": False},
        "balanced": balanced,
        "best": {**balanced, "ensemble": ("auto",)},
    }
    if name not in presets:
        raise InvalidOption(f"unknown preset {name!r}; choose one of: {', '.join(presets)}")
    return dict(presets[name])


_HEX = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")
_NAMED = {"white": "ffffff", "black": "000000", "red": "ff0000", "green": "00ff00",
          "blue": "0000ff", "gray": "808080", "grey": "808080"}


def parse_color(text: str) -> tuple[int, int, int, int] | None:
    """``#rrggbb``, ``#rrggbbaa``, ``r,g,b[,a]`` or a basic colour name; None if not a colour."""
    text = text.strip().lower()
    if text in _NAMED:
        text = _NAMED[text]
    match = _HEX.match(text)
    if match:
        rgb = match.group(1)
        alpha = int(match.group(2), 16) if match.group(2) else 255
        return (int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16), alpha)
    parts = text.split(",")
    if len(parts) in (3, 4) and all(p.strip().isdigit() for p in parts):
        values = [int(p) for p in parts] + ([255] if len(parts) == 3 else [])
        if all(0 <= v <= 255 for v in values):
            return (values[0], values[1], values[2], values[3])
    return None


def parse_background(value: Any) -> dict[str, Any]:
    """A ``bg`` option: a colour, ``transparent``/``none``, or a path to an image."""
    if isinstance(value, tuple):
        return {"bg_color": tuple(int(v) for v in value) + (255,) * (4 - len(value)),
                "bg_image": None}
    text = str(value)
    if text.lower() in ("", "none", "transparent"):
        return {"bg_color": None, "bg_image": None}
    color = parse_color(text)
    if color is not None:
        return {"bg_color": color, "bg_image": None}
    return {"bg_color": None, "bg_image": text}


def _validate(config: Config) -> None:
    from alphacut.models.registry import get_spec

    get_spec(config.model)
    out, ref = config.output, config.refine
    if out.format not in FORMATS:
        raise InvalidOption(f"unknown format {out.format!r}; choose one of: {', '.join(FORMATS)}")
    if ref.upsample not in UPSAMPLERS:
        raise InvalidOption(f"unknown upsample {ref.upsample!r}; choose: {', '.join(UPSAMPLERS)}")
    if not 1 <= out.quality <= 100:
        raise InvalidOption("quality must be within 1..100")
    if not 0 <= out.png_compress_level <= 9:
        raise InvalidOption("png_compress_level must be within 0..9")
    if out.crop_margin < 0:
        raise InvalidOption("crop_margin must be >= 0")
    if config.max_pixels < 1:
        raise InvalidOption("max_pixels must be >= 1")
    if config.runtime.threads is not None and config.runtime.threads < 1:
        raise InvalidOption("threads must be >= 1")
    if ref.guided_radius < 1 or ref.guided_eps <= 0:
        raise InvalidOption("guided_radius must be >= 1 and guided_eps > 0")
