"""Option metadata: one declaration per option drives the CLI flags, HTTP parsing, the
``GET /v1/options`` document and validation.

Light on purpose (dataclasses only): ``alphacut --help`` builds its flags from it.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

from alphacut.errors import InvalidOption

ENDPOINTS = ("remove", "mask")


@dataclass(frozen=True)
class OptionInfo:
    """One flat option as every front door sees it.

    - ``kind``: ``bool``, ``int``, ``float`` or ``str`` (the value type a client sends).
    - ``group``: ``model``, ``refine``, ``output`` or ``limits``: where it shows.
    - ``flag``: the CLI flag (``--matting-band``); ``short``: e.g. ``-m``; ``None``: no flag.
    - ``client``: HTTP clients may set it; ``endpoints``: which image endpoints take it.
    - ``lo``/``hi``: inclusive bounds for numbers; ``choices``: allowed strings.
    """

    name: str
    kind: type
    default: Any
    help: str
    group: str
    flag: str | None
    short: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    lo: float | None = None
    hi: float | None = None
    client: bool = True
    endpoints: tuple[str, ...] = ENDPOINTS

    def check(self, value: Any) -> None:
        """Raise ``InvalidOption`` if ``value`` is not of this option's kind or is out of its
        range or choices."""
        if value is None:
            return
        if self.kind is bool and not (isinstance(value, numbers.Integral) and value in (0, 1)):
            raise InvalidOption(f"{self.name} must be true or false, not {_show(value)}")
        if self.kind in (int, float):
            self._check_number(value)
        if self.choices is not None and not (isinstance(value, str) and value in self.choices):
            raise InvalidOption(f"unknown {self.name} {_show(value)}; choose one of: "
                                f"{', '.join(self.choices)}")

    def _check_number(self, value: Any) -> None:
        kind = numbers.Integral if self.kind is int else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            what = "a whole number" if self.kind is int else "a number"
            raise InvalidOption(f"{self.name} must be {what}, not {_show(value)}")
        if not isinstance(value, numbers.Integral) and not math.isfinite(float(value)):
            raise InvalidOption(f"{self.name} must be a finite number, not {value!r}")
        if (self.lo is not None and value < self.lo) or (
                self.hi is not None and value > self.hi):
            raise InvalidOption(f"{self.name} must be within {_fmt(self.lo)}.."
                                f"{_fmt(self.hi)}, not {_show(value)}")

    def describe(self) -> dict[str, Any]:
        """JSON for ``GET /v1/options``."""
        kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
        default = self.default if not isinstance(self.default, tuple) else ",".join(self.default)
        return {"name": self.name, "type": kinds[self.kind], "default": default,
                "choices": list(self.choices) if self.choices else None, "min": self.lo,
                "max": self.hi, "help": self.help, "group": self.group,
                "endpoints": list(self.endpoints) if self.client else []}


def _show(value: Any) -> str:
    """``repr(value)`` cut to 60 characters, for messages."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**50 else "a huge integer"
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt(bound: float | None) -> str:
    return "" if bound is None else f"{bound:g}"


def opt(default: Any, help: str, *, flag: str | None = "", kind: type | None = None,
        **info: Any) -> Any:
    """A dataclass field carrying its option metadata (``flag=""``: derive ``--the-name``)."""
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag,
                                                        "kind": kind, **info})


def collect(group: str, cls: type, *, skip: tuple[str, ...] = ()) -> list[OptionInfo]:
    """The OptionInfo of every field of ``cls`` declared with :func:`opt`."""
    infos = []
    for f in dataclasses.fields(cls):
        if f.name in skip or "help" not in f.metadata:
            continue
        meta = dict(f.metadata)
        flag = meta.pop("flag")
        kind = meta.pop("kind") or type(f.default)
        infos.append(OptionInfo(
            name=f.name, kind=kind, default=f.default, group=meta.pop("group", group),
            flag=("--" + f.name.replace("_", "-")) if flag == "" else flag, **meta))
    return infos
