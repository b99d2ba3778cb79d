"""Property-based: the public option surface raises only ``InvalidOption``, whatever it gets.

Fixed seed (``derandomize``) and a bounded number of examples per property, so CI stays well
under a minute; ``ALPHACUT_HYPOTHESIS_EXAMPLES=20000`` runs a longer local campaign.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphacut.config import Config
from alphacut.errors import InvalidOption
from alphacut.interfaces.batch import Job
from alphacut.interfaces.cli_remove import plan_destinations
from alphacut.models.registry import load_spec_file

EXAMPLES = int(os.environ.get("ALPHACUT_HYPOTHESIS_EXAMPLES", "400"))
BOUNDED = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))

HUGE = st.sampled_from([2**31, 2**63, -(2**63), 10**23, 10**400, -(10**400)])
WORDS = st.sampled_from(["auto", "none", "u2netp", "u2net", "white", "#00ff00", "1,2,3",
                         "1,2,3,300", "nan", "inf", "-1", "0", "1e23", "best", "fast",
                         "guided", "bilinear", "png", "jpeg", "webp", "transparent", "", " ",
                         "../x.json", "model.onnx", "a\0b", "{stem}"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), HUGE,
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), WORDS)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner, inner),
    st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=8)
OPTION_NAMES = st.one_of(st.sampled_from(Config.option_names()), st.text(max_size=10))


@BOUNDED
@given(st.dictionaries(OPTION_NAMES, VALUES, max_size=5))
def test_config_build_raises_only_invalid_option(options: dict[str, Any]) -> None:
    try:
        config = Config.build(**options)
    except InvalidOption:
        return
    assert isinstance(config, Config)
    assert isinstance(config.refine.guided_radius, int)
    assert isinstance(config.output.quality, int)


SPEC_KEYS = ["name", "onnx", "sha256", "license", "task", "input_size", "resize", "multiple",
             "scale", "mean", "std", "input_name", "output_index", "activation",
             "description"]
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), HUGE,
                              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                              st.sampled_from(["fixed", "max_side", "sigmoid", "divide_max",
                                               "general", "model.onnx", "x" * 64])),
                    lambda inner: st.one_of(st.lists(inner, max_size=4),
                                            st.dictionaries(st.text(max_size=6), inner,
                                                            max_size=3)), max_leaves=10)
SPEC_DOCS = st.one_of(
    JSON,
    st.fixed_dictionaries({"onnx": st.one_of(st.just("model.onnx"), JSON),
                           "input_size": st.one_of(st.lists(st.integers(-5, 9000), min_size=0,
                                                            max_size=3), JSON)},
                          optional={k: JSON for k in SPEC_KEYS if k not in ("onnx", "input_size")}),
)


@BOUNDED
@given(SPEC_DOCS)
def test_load_spec_file_raises_only_invalid_option(doc: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.json"
        path.write_text(json.dumps(doc))  # NaN and Infinity as their JSON extensions
        try:
            spec = load_spec_file(path)
        except InvalidOption:
            return
    assert all(8 <= side <= 8192 for side in spec.input_size)
    assert spec.multiple >= 1 and all(s > 0 for s in spec.std)


SEGMENT = st.text(alphabet=st.characters(blacklist_characters="/\0"), min_size=1, max_size=12)
FILE_NAMES = st.lists(st.tuples(st.sampled_from(["", "a", "b/c", "..", "."]), SEGMENT,
                                st.sampled_from([".jpg", ".png", ".webp", ".JPG", ""])),
                      min_size=1, max_size=8)
TEMPLATE_PARTS = st.sampled_from(["{stem}", "{name}", "{ext}", "{parent}", "{model}",
                                  "{relparent}", "{stem:.3}", "{stem:_<300}", "{stem:>5}",
                                  ".", "..", "/", "-", "x", "{", "}", "{{", "}}", "{0}",
                                  "{stem!r}", "~", "\0", "é", "{stem:99999999999}"])
TEMPLATES = st.one_of(st.lists(TEMPLATE_PARTS, min_size=0, max_size=6).map("".join),
                      st.text(max_size=20))


@BOUNDED
@given(FILE_NAMES, TEMPLATES)
def test_planned_names_stay_in_the_folder_and_never_share_a_path(
        files: list[tuple[str, str, str]], template: str) -> None:
    out = Path(tempfile.gettempdir()) / "alphacut-plan-out"
    jobs = list(dict.fromkeys(Job(Path("in") / folder / (stem + ext),
                                  Path(folder) / (stem + ext)) for folder, stem, ext in files))
    try:
        planned = plan_destinations(jobs, None, out, template, "png", "u2netp")
    except InvalidOption:
        return
    assert set(planned) == set(jobs)
    paths = [os.path.normpath(p) for p in planned.values()]
    assert len(set(paths)) == len(paths), planned
    for path in paths:
        assert os.path.commonpath([path, str(out)]) == str(out) and path != str(out), path
