"""Option values of the wrong type or size: ``InvalidOption`` naming the option, never a raw
Python error (the shrunk failures hypothesis found, kept as regressions)."""

from __future__ import annotations

from typing import Any

import pytest

from alphacut.config import Config
from alphacut.errors import InvalidOption

BAD = [
    ("guided_radius", "abc"), ("guided_radius", []), ("guided_radius", 10**400),
    ("guided_radius", "4"), ("guided_radius", 4.5), ("guided_radius", True),
    ("crop_margin", {"a": 1}), ("crop_margin", 1e23), ("crop_margin", -(10**400)),
    ("guided_eps", float("nan")), ("guided_eps", 10**400), ("guided_eps", "0.001"),
    ("threads", (None, None, None)), ("threads", 2**63), ("quality", "90"),
    ("max_pixels", "guided"), ("matting", "yes"), ("matting", 2), ("crop", [True]),
    ("ensemble", 0.485), ("ensemble", -93), ("ensemble", [1, 2]), ("ensemble", "nope"),
    ("bg", ("a", 1, 2)), ("bg", (1, 2)), ("bg", (300, 0, 0)), ("bg", (1.5, 2, 3)),
    ("bg", 2795), ("bg", {"r": 1}), ("bg_image", []), ("format", ["png"]),
    ("upsample", ("guided",)), ("model", 123), ("model", ["u2netp"]),
    ("model", "a\0b.json"),
]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_a_bad_value_is_an_invalid_option_naming_it(name: str, value: Any) -> None:
    with pytest.raises(InvalidOption) as info:
        Config.build(**{name: value})
    assert name.split("_")[0] in str(info.value) or "unknown model" in str(info.value)


def test_good_values_of_every_kind_still_build() -> None:
    import numpy as np

    config = Config.build(guided_radius=np.int64(8), guided_eps=1, quality=80, crop=1,
                          matting=False, bg=(255, 255, 255), ensemble=["u2netp"],
                          max_pixels=2**40)
    assert config.refine.guided_radius == 8 and config.output.bg_color == (255, 255, 255, 255)
    assert config.refine.ensemble == ("u2netp",)
