"""One frozen, validated config for every front door.

Front doors speak in flat option names (the CLI's flags, the HTTP form fields); ``Config.build``
maps them onto the four groups. Unknown names and bad values raise ``InvalidOption`` with the
valid choices. Defaults live here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import Any

from alphacut.errors import InvalidOption
from alphacut.formats import DEFAULT_MAX_PIXELS
from alphacut.formats import OUTPUT_FORMATS as FORMATS
from alphacut.models.registry import DEFAULT_MODEL
from alphacut.schema import OptionInfo, collect, opt

UPSAMPLERS: tuple[str, ...] = ("guided", "bilinear")
PRESETS: tuple[str, ...] = ("fast", "balanced", "best")
_REMOVE_ONLY = ("remove",)  # options of the written picture, not of POST /v1/mask's matte
SHADOWS: tuple[str, ...] = ("none", "drop", "contact")


@dataclass(frozen=True)
class RuntimeOptions:
    """How to run the model: ONNX Runtime threads (None: all cores)."""

    threads: int | None = opt(None, "ONNX Runtime threads (default: all cores)", kind=int,
                              lo=1, hi=1024, client=False, group="limits")
    detail: int | None = opt(None, "for a model that runs its backbone downsized (rvm: 512 "
                             "px by default): that side in pixels; smaller is faster and "
                             "coarser (docs/video.md)", kind=int, lo=32, hi=4096,
                             client=False, group="model", metavar="PX")


@dataclass(frozen=True)
class RefineOptions:
    """How the soft mask becomes the final matte and clean foreground colours.

    Defaults are the ``balanced`` preset, each measured on ../shared/evaldata
    (benchmarks/quality.py; numbers in docs/quality.md). Each field's help says what it does.
    """

    upsample: str = opt("bilinear", "mask upsampling: bilinear, or guided (edge-aware; spreads "
                        "grey into flat backgrounds)", choices=UPSAMPLERS)
    guided_radius: int = opt(4, "guided upsampling window radius, pixels", lo=1, hi=64)
    guided_eps: float = opt(1e-3, "guided upsampling regulariser (on 0..1 intensities)",
                            lo=1e-8, hi=1.0)
    matting: bool = opt(True, "closed-form matting in the uncertain band (finer hair)")
    matting_band: float = opt(0.0, "extra matting band width, fraction of the long side "
                              "(wider: more hair, crisp edges a little softer)", lo=0.0, hi=0.1,
                              metavar="FRACTION")
    decontaminate: bool = opt(True, "clean the old background's colour from the edges")
    ensemble: tuple[str, ...] = opt((), "also run these models and fuse their masks: comma "
                                    "list, 'auto' (the measured partner) or 'none'; mind each "
                                    "model's licence", kind=str, metavar="MODELS")
    tta_flip: bool = opt(False, "also run the mirrored photo and fuse (test-time augmentation; "
                         "helps isnet-general)", flag="--flip")
    # issue #13 item 2 (box prompt): core/roi.py
    roi: str | None = opt(None, "keep only the subject inside this box: x1,y1,x2,y2, each in "
                          "px or percent (remove.bg's roi); the model runs on a crop around it",
                          kind=str, metavar="X1,Y1,X2,Y2")
    # issue 13 item 3: touch-up strokes (core/refine/strokes.py)
    strokes: str | bytes | None = opt(
        None, "touch-up strokes, hard constraints of the matting solve: a stroke picture "
        "(white keep, black remove, else nothing) or JSON polylines in photo pixels "
        '{"keep": [[[x,y],...]], "remove": [...], "width": px}', kind=str,
        metavar="PICTURE|JSON")

    def __post_init__(self) -> None:
        if isinstance(self.roi, str) and self.roi.strip().lower() in ("", "none"):
            object.__setattr__(self, "roi", None)
        if self.roi is not None:
            from alphacut.core.roi import parse_roi

            parse_roi(self.roi)
        from alphacut.core.refine.strokes import check_strokes

        check_strokes(self.strokes)
        names = self.ensemble
        if isinstance(names, str):
            names = tuple(n.strip() for n in names.split(",") if n.strip())
        if not isinstance(names, (tuple, list)) or not all(isinstance(n, str) for n in names):
            raise InvalidOption("ensemble must be model names (a comma list or a list of "
                                f"strings), not {type(self.ensemble).__name__}")
        names = tuple(names)
        if any(n.lower() in ("none", "off") for n in names):
            names = ()
        object.__setattr__(self, "ensemble", names)
        for name in names:
            if name != "auto":
                from alphacut.models.registry import get_spec

                get_spec(name)


@dataclass(frozen=True)
class OutputOptions:
    """What to write: a cut-out, a mask, or the subject over a colour/image, maybe cropped."""

    format: str = opt("png", "output format (without it: from -o's extension)",
                      short="-f", choices=FORMATS)
    mask_only: bool = opt(False, "write the alpha mask only", flag="--mask")
    bg_color: tuple[int, int, int, int] | None = None
    bg_image: str | None = None
    crop: bool = opt(False, "crop to the subject")
    quality: int = opt(92, "JPEG/WebP quality", lo=1, hi=100)
    png_compress_level: int = opt(1, "PNG deflate level (1: fast, 9: smallest)", lo=0, hi=9)
    # --- issue 13, outputs: layers, feather, shadow (core/layers.py, core/finish/) ---
    layers: bool = opt(False, "one full-size PNG per separate subject ({stem}-{n}.png) and "
                       "{stem}-layers.json with their boxes and areas, instead of one file",
                       endpoints=("remove",))
    feather: float = opt(0.0, "soften the matte's edge over this many pixels, inward (alpha "
                         "only; 0: off)", lo=0.0, hi=10_000.0, metavar="PX",
                         endpoints=("remove",))
    shadow: str = opt("none", "synthesise a shadow under the subject: drop (offset, "
                      "blurred silhouette) or contact (squashed, at its base)",
                      kind=str, choices=SHADOWS, endpoints=("remove",))
    shadow_offset: str | None = opt(None, "shadow offset x,y in pixels (default: from the "
                                    "subject's size)", kind=str, metavar="X,Y",
                                    endpoints=("remove",))
    shadow_blur: float | None = opt(None, "shadow blur radius in pixels (default: from the "
                                    "subject's size)", kind=float, lo=0.0, hi=10_000.0,
                                    metavar="PX", endpoints=("remove",))
    shadow_opacity: float = opt(0.5, "shadow opacity", lo=0.0, hi=1.0,
                                endpoints=("remove",))
    # --- layout and colour (issue #13 item 4; core/finish/layout.py, colour.py) ---
    crop_margin: int | str = opt(
        "16px", "margin around the subject when cropping: 1, 2 or 4 values (top right bottom "
        "left), each px or percent of the subject box", flag="--crop-margin", short="--margin",
        kind=str, metavar="MARGIN")
    size: str | None = opt(None, "output canvas WxH in px (default: the photo's or the crop's "
                           "size; the picture is fitted in)", kind=str, metavar="WxH",
                           endpoints=_REMOVE_ONLY)
    scale: str | None = opt(None, "scale the subject's box to this share of the canvas, "
                            "a percentage (default: as is)", kind=str, metavar="PERCENT",
                            endpoints=_REMOVE_ONLY)
    position: str | None = opt(None, "place the subject: center, bottom, top, original, or "
                               "'x,y' in percent of the free space (default: center when scaled, "
                               "else original)", kind=str, metavar="WHERE", endpoints=_REMOVE_ONLY)
    match_colour: float = opt(0.0, "shift the subject's colours toward the new background's "
                              "(Lab mean and spread), 0 = off; no effect without --bg",
                              lo=0.0, hi=1.0, metavar="STRENGTH", endpoints=_REMOVE_ONLY)

    def __post_init__(self) -> None:
        from alphacut.core.finish.layout_spec import check

        check(self.size, self.scale, self.position, self.crop_margin)


@dataclass(frozen=True)
class Config:
    """The whole request: which model, how to run it, how to refine, what to write."""

    model: str = opt(DEFAULT_MODEL, "model name, or a spec file for your own .onnx (see "
                     "'alphacut models list' for each model's licence)", short="-m",
                     group="model")
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)
    refine: RefineOptions = field(default_factory=RefineOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    max_pixels: int = opt(DEFAULT_MAX_PIXELS, "refuse images with more pixels than this",
                          lo=1, hi=2**40, group="limits")

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


PRESET_OPTION = OptionInfo(
    "preset", str, None, "quality preset: fast (model only), balanced (default: band matting, "
    "clean edge colours), best (balanced + a second model fused in; for u2net that is "
    "isnet-general, AGPL-3.0)", "model", "--preset", choices=PRESETS)
BG_OPTION = OptionInfo("bg", str, None, "put the subject over a colour (white, #rrggbb, "
                       "r,g,b[,a]) or an image", "output", "--bg", metavar="COLOR|IMAGE",
                       endpoints=("remove",))


def options() -> list[OptionInfo]:
    """Every flat option with its metadata, in the order help shows them."""
    infos = [*collect("model", Config, skip=("max_pixels",)), PRESET_OPTION,
             *collect("output", OutputOptions), BG_OPTION, *collect("refine", RefineOptions),
             *collect("limits", Config, skip=("model",)), *collect("limits", RuntimeOptions)]
    mask_endpoint = {"format", "mask_only", "crop", "crop_margin", "quality",
                     "png_compress_level", "decontaminate"}
    return [dataclasses.replace(i, endpoints=("remove",)) if i.name in mask_endpoint else i
            for i in infos]


def option_info() -> dict[str, OptionInfo]:
    return {info.name: info for info in options()}


def split_output(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options that shape the matte, options that shape the written file)."""
    output = {n for n, (group, _) in _FLAT.items() if group == "output"}
    return ({k: v for k, v in options.items() if k not in output},
            {k: v for k, v in options.items() if k in output})


def _group_fields(group: type) -> dict[str, str]:
    return {f.name: f.name for f in dataclasses.fields(group)}


# flat option name -> (group attribute or "" for top level, field name)
_FLAT: dict[str, tuple[str, str]] = {
    "model": ("", "model"),
    "max_pixels": ("", "max_pixels"),
    "threads": ("runtime", "threads"),
    "detail": ("runtime", "detail"),
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
    if isinstance(value, (tuple, list)):
        if len(value) not in (3, 4) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
            raise InvalidOption("bg as numbers must be 3 or 4 integers in 0..255 (r, g, b[, a])")
        return {"bg_color": (*value, *(255,) * (4 - len(value))), "bg_image": None}
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidOption(f"bg must be a colour or an image path, not {type(value).__name__}")
    text = str(value)
    if text.lower() in ("", "none", "transparent"):
        return {"bg_color": None, "bg_image": None}
    color = parse_color(text)
    if color is not None:
        return {"bg_color": color, "bg_image": None}
    return {"bg_color": None, "bg_image": text}


def _validate(config: Config) -> None:
    """Every option within its declared range and choices; the model must exist."""
    from alphacut.models.registry import get_spec

    get_spec(config.model)
    image = config.output.bg_image
    if image is not None and not isinstance(image, (str, os.PathLike)):
        raise InvalidOption(f"bg_image must be a path, not {type(image).__name__}")
    _check_canvas(config)
    _check_outputs(config.output)
    infos = option_info()
    for group in (config, config.runtime, config.refine, config.output):
        for f in dataclasses.fields(group):
            if f.name in infos:
                infos[f.name].check(getattr(group, f.name))


def _check_outputs(output: OutputOptions) -> None:
    """Issue 13 outputs: the shadow offset parses; layers and PSD fit the other options."""
    if output.shadow_offset is not None:
        from alphacut.core.finish.offset import parse_offset

        parse_offset(output.shadow_offset)
    if output.layers and output.format != "png":
        raise InvalidOption(f"layers are written as PNG files, not {output.format}; drop "
                            "--format (or use --format psd alone for one layered file)")
    if output.layers and output.mask_only:
        raise InvalidOption("layers and mask_only cannot be combined")
    if output.format == "psd" and output.mask_only:
        raise InvalidOption("a psd holds the photo with its mask; for the mask alone use png")


def _check_canvas(config: Config) -> None:
    """The ``size`` canvas within ``max_pixels`` (layout, issue #13)."""
    from alphacut.core.finish.layout_spec import parse_size

    size = parse_size(config.output.size)
    if size is not None and size[0] * size[1] > config.max_pixels:
        raise InvalidOption(f"size {size[0]}x{size[1]} is over the limit of "
                            f"{config.max_pixels} pixels")
