"""The config's options as argparse flags, generated from their metadata (``config.options``).

A new option declared on the config shows up here with its help, range and choices; no flag
is written by hand.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from alphacut.config import Config, options
from alphacut.schema import OptionInfo

DEFAULT_OUT_DIR = "alphacut-out"
GROUP_TITLES = {"model": "model", "output": "output", "refine": "refinement",
                "limits": "limits and resources"}


def add_config_flags(parser: argparse.ArgumentParser, *,
                     groups: tuple[str, ...] = tuple(GROUP_TITLES),
                     exclude: tuple[str, ...] = ()) -> None:
    """Add one flag per option of ``groups`` (grouped in ``--help``); values default to None
    ("use the config's default")."""
    sections = {g: parser.add_argument_group(GROUP_TITLES[g]) for g in groups}
    for info in options():
        if info.group in sections and info.flag and info.name not in exclude:
            _add_flag(sections[info.group], info)


def config_options(args: argparse.Namespace, *, groups: tuple[str, ...] = tuple(GROUP_TITLES),
                   exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The flat options the user gave (unset flags left out) for ``Config.build``."""
    out = {}
    for info in options():
        if info.group in groups and info.flag and info.name not in exclude:
            value = getattr(args, info.name, None)
            if value is not None:
                out[info.name] = value
    return out


def _add_flag(group: Any, info: OptionInfo) -> None:
    names = [n for n in (info.short, info.flag) if n]
    help_text = info.help + _suffix(info)
    if info.kind is bool:
        group.add_argument(*names, dest=info.name, action=argparse.BooleanOptionalAction,
                           default=None, help=help_text)
        return
    group.add_argument(*names, dest=info.name, type=info.kind, default=None,
                       choices=list(info.choices) if info.choices else None,
                       metavar=info.metavar or (None if info.choices else info.name.upper()),
                       help=help_text)


def _suffix(info: OptionInfo) -> str:
    parts = []
    if info.lo is not None or info.hi is not None:
        parts.append(f"{_num(info.lo)}..{_num(info.hi)}")
    if info.default not in (None, (), "") and info.kind is not bool:
        parts.append(f"default {info.default}")
    if info.name == "model":
        parts.append(model_licences())
    return f" ({'; '.join(parts)})" if parts else ""


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def model_licences() -> str:
    """``u2net: Apache-2.0 (default), isnet-general: AGPL-3.0, ...`` for help texts."""
    from alphacut.models.registry import DEFAULT_MODEL, list_models

    return ", ".join(f"{s.name}: {s.license}{' (default)' if s.name == DEFAULT_MODEL else ''}"
                     for s in list_models() if s.available_here)


def config_from_args(args: argparse.Namespace, fmt: str) -> Config:
    """The one Config for this run, from the flags (None means the default)."""
    return Config.build(**{**config_options(args), "format": fmt})


def choose_format(args: argparse.Namespace, target: Path | None) -> str:
    if args.format:
        return str(args.format)
    if target is not None:
        from alphacut.core.encode import format_for_path

        return format_for_path(target)
    return "png"
