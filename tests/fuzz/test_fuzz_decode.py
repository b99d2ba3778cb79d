"""Fuzz the decoder: mutated files of every format either decode to a valid ``Decoded`` or raise
an ``AlphacutError`` subclass, quickly (a deadline per example, a watchdog against hangs) and
silently (no warning, nothing on stderr), never anything else.

Budget: ALPHACUT_FUZZ_EXAMPLES examples per seed (default 120: about 20-30 s in all); a fixed
seed (``derandomize``) so CI runs the same inputs every time. ALPHACUT_FUZZ_SEED picks another
stream for a longer local run, e.g. ``ALPHACUT_FUZZ_EXAMPLES=2000 ALPHACUT_FUZZ_SEED=7``.
"""

from __future__ import annotations

import faulthandler
import os
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from decode_fuzzing import OP_KINDS, check_decode, mutate, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("ALPHACUT_FUZZ_EXAMPLES", "120"))
SEED = os.environ.get("ALPHACUT_FUZZ_SEED")
WATCHDOG_S = 60.0  # one example stuck this long is a hang: dump stacks and stop the run

_op = st.tuples(
    st.sampled_from(OP_KINDS),
    st.integers(0, 2**24 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**16 - 1),
)
_ops = st.lists(_op, min_size=1, max_size=4)

_settings = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=5),
    derandomize=SEED is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    print_blob=True,
)


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def test_every_seed_decodes_cleanly() -> None:
    """The unmutated seeds are valid files: each decodes (so the fuzz starts from real data)."""
    names = set(seeds())
    assert {"jpeg", "png_16bit_rgb", "png_palette_trns", "webp_animated", "tiff_cmyk",
            "tiff_16bit", "bmp_rgb", "gif_animated"} <= names
    for name, data in seeds().items():
        assert check_decode(data) == "ok", name


def _fuzz(name: str, capfd: pytest.CaptureFixture[str]) -> None:
    pool = list(seeds().values())
    original = seeds()[name]

    @_settings
    @given(ops=_ops)
    def run(ops: list[tuple[str, int, int, int]]) -> None:
        data = mutate(original, ops, pool)
        capfd.readouterr()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning escaping decode() fails the example
            check_decode(data)
        assert capfd.readouterr().err == "", "decoding printed to stderr"

    if SEED is not None:
        run = hypothesis_seed(int(SEED))(run)
    run()


@pytest.mark.parametrize("name", sorted(seeds()))
def test_mutated_files_decode_or_raise_typed_errors(
    name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    _fuzz(name, capfd)
