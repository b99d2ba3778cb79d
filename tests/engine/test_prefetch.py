"""Engine.prefetch: a photo decoded and prepared on a helper thread equals the plain path,
and a bad file fails at decode() as it would without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alphacut.engine import Engine
from alphacut.errors import AlphacutError

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"


def test_prefetched_photo_equals_the_plain_one(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    engine = Engine(model="u2netp")
    plain_timings: dict[str, float] = {}
    plain = engine.prepare(engine.decode(photo, plain_timings), plain_timings)
    engine.prefetch(photo)
    engine._prefetched[str(photo)].result()  # the helper is done with the file ...
    photo.unlink()  # ... so only its result can give the next decode the pixels
    timings: dict[str, float] = {}
    decoded = engine.decode(photo, timings)
    item = engine.prepare(decoded, timings)
    assert np.array_equal(decoded.rgb, plain.decoded.rgb)
    assert len(item.tensors) == len(plain.tensors)
    for got, want in zip(item.tensors, plain.tensors, strict=True):
        assert np.array_equal(got, want)
    assert item.timings is timings and timings["decode"] > 0 and timings["preprocess"] > 0
    again = engine.prepare(decoded, {})  # taken once: a second prepare computes afresh
    assert again is not item and np.array_equal(again.tensors[0], item.tensors[0])


def test_a_prefetch_for_another_path_is_not_used(tmp_path: Path) -> None:
    other = tmp_path / "small.png"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(other)
    engine = Engine(model="u2netp")
    engine.prefetch(SAMPLE)
    assert engine.decode(other).rgb.shape == (30, 40, 3)


def test_a_bad_file_fails_at_decode(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a picture")
    engine = Engine(model="u2netp")
    with pytest.raises(AlphacutError) as plain:
        engine.decode(bad)
    engine.prefetch(bad)
    with pytest.raises(type(plain.value)):
        engine.decode(bad)
