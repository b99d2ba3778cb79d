"""Touch-up strokes over HTTP: a JSON ``strokes`` field, an uploaded stroke picture, and no
server-side paths."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw
from server_helpers import alpha_of

from helpers import PETS

pytestmark = pytest.mark.model
PET = PETS[0]


def _post(url: str, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{url}/v1/remove", timeout=120, **kwargs)  # type: ignore[arg-type]


def _centre_line(size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    w, h = size
    return (w // 2 - w // 10, h // 2), (w // 2 + w // 10, h // 2)


def test_json_strokes_field_and_stroke_picture_both_pin_the_alpha(server_url) -> None:
    photo = PET.read_bytes()
    size = Image.open(PET).size
    (x0, y), (x1, _) = _centre_line(size)
    plain = alpha_of(_post(server_url, content=photo).content)
    assert plain[y, (x0 + x1) // 2] > 0.5  # the middle of the pet is subject
    strokes = json.dumps({"remove": [[[x0, y], [x1, y]]], "width": 8})
    res = _post(server_url, files={"file": ("pet.jpg", photo, "image/jpeg")},
                data={"strokes": strokes})
    assert res.status_code == 200, res.text
    after = alpha_of(res.content)
    assert after[y, x0:x1 + 1].max() == 0.0
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(picture).line([(x0, y), (x1, y)], fill=(0, 0, 0, 255), width=8)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    res = _post(server_url, files={"file": ("pet.jpg", photo, "image/jpeg"),
                                   "strokes": ("strokes.png", buffer.getvalue(), "image/png")})
    assert res.status_code == 200, res.text
    drawn = alpha_of(res.content)
    assert drawn[y, x0:x1 + 1].max() == 0.0
    assert np.abs(drawn - after).mean() < 0.01


@pytest.mark.parametrize("fields", [{"strokes": "/etc/passwd"}, {"strokes": "{bad json"},
                                    {"strokes": '{"keep": [[[1]]]}'}])
def test_a_path_or_bad_json_is_a_typed_error(server_url, fields) -> None:
    res = _post(server_url, files={"file": ("pet.jpg", PET.read_bytes(), "image/jpeg")},
                data=fields)
    assert res.status_code == 422, res.text
    assert res.json()["error"] == "invalid_option"


def test_a_stroke_picture_that_is_not_an_image_is_a_typed_error(server_url) -> None:
    res = _post(server_url, files={"file": ("pet.jpg", PET.read_bytes(), "image/jpeg"),
                                   "strokes": ("s.png", b"not a picture", "image/png")})
    assert res.status_code == 422, res.text
    assert res.json()["error"] == "invalid_option"
