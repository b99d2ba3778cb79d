"""remove.bg field values -> alphacut's flat options (no server needed)."""

from __future__ import annotations

import pytest

from alphacut.interfaces.server.removebg_fields import (
    RemoveBgError,
    parse_bg_color,
    parse_position,
    parse_request,
    parse_roi,
    scale_roi,
)

EVERYTHING = {"roi", "crop", "crop_margin", "bg", "scale", "position", "shadow",
              "shadow_opacity"}


def request(fields: dict[str, str], supported: set[str] = EVERYTHING, kind: type = str):  # type: ignore[no-untyped-def]
    return parse_request({"image_file_b64": "aGVsbG8=", **fields}, {}, supported, kind)


@pytest.mark.parametrize(("text", "rgba"), [
    ("81d4fa", (0x81, 0xD4, 0xFA, 255)), ("#81D4FA", (0x81, 0xD4, 0xFA, 255)),
    ("fff", (255, 255, 255, 255)), ("81d4fa77", (0x81, 0xD4, 0xFA, 0x77)),
    ("f008", (255, 0, 0, 0x88)), ("green", (0, 128, 0, 255)), ("white", (255, 255, 255, 255)),
])
def test_bg_colors(text: str, rgba: tuple[int, int, int, int]) -> None:
    assert parse_bg_color(text) == rgba


def test_roi_position_and_margin_syntax() -> None:
    assert parse_roi("0% 0% 100% 100%") == "0%,0%,100%,100%"
    assert parse_roi("10px 20px 300px 400") == "10,20,300,400"
    assert scale_roi("10,20,50%,400", 0.5) == "5.00,10.00,50%,200.00"
    assert parse_position("", scaled=True) == "center"
    assert parse_position("", scaled=False) is None
    assert parse_position("original", scaled=True) == "original"
    assert parse_position("50%", scaled=False) == "50%,50%"
    assert parse_position("0% 100%", scaled=False) == "0%,100%"
    options = request({"crop": "true", "crop_margin": "10px 5%"}).options
    assert options["crop"] is True and options["crop_margin"] == "10px,5%"
    assert request({"crop": "true"}, kind=int).options["crop_margin"] == 0  # remove.bg: none
    assert request({"crop": "true", "crop_margin": "30px"}, kind=int).options["crop_margin"] == 30


def test_shadow_and_scale_mapping() -> None:
    assert request({"add_shadow": "true"}).options["shadow"] == "drop"
    options = request({"shadow_type": "3D", "shadow_opacity": "40"}).options
    assert options == {"shadow": "contact", "shadow_opacity": 0.4}
    assert request({"scale": "80%"}).options == {"scale": "80%", "position": "center"}
    assert request({"scale": "original", "position": "original"}).options == \
        {"position": "original"}
    assert request({"position": "original"}, supported=set()).options == {}


@pytest.mark.parametrize(("fields", "code"), [
    ({"roi": "0% 0% 100%"}, "invalid_parameter"), ({"scale": "5%"}, "invalid_parameter"),
    ({"position": "left"}, "invalid_parameter"), ({"bg_color": "nope"}, "invalid_parameter"),
    ({"image_url": "http://example.com/x.jpg"}, "multiple_sources"),
    ({"bg_color": "fff", "bg_image_url": "http://example.com/x.jpg"}, "multiple_backgrounds"),
    ({"image_file_b64": "not base64!"}, "invalid_parameter"), ({"color": "red"},
                                                               "unknown_parameter"),
])
def test_refusals(fields: dict[str, str], code: str) -> None:
    with pytest.raises(RemoveBgError) as caught:
        request(fields)
    assert caught.value.code == code and caught.value.status == 400


def test_unsupported_options_are_named() -> None:
    with pytest.raises(RemoveBgError, match="roi") as caught:
        request({"roi": "0% 0% 50% 50%"}, supported={"crop"})
    assert caught.value.code == "unsupported_parameter"
    with pytest.raises(RemoveBgError, match="crop_margin"):
        request({"crop": "true", "crop_margin": "10%"}, kind=int)


def test_person_picks_a_served_portrait_model() -> None:
    from types import SimpleNamespace

    from alphacut.interfaces.server.removebg import people_model
    from alphacut.interfaces.server.settings import ServerSettings

    with_modnet = ServerSettings(model="u2netp", models=("u2netp", "modnet"))
    assert people_model(SimpleNamespace(settings=with_modnet)) == "modnet"  # type: ignore[arg-type]
    alone = ServerSettings(model="u2netp", models=("u2netp",))
    assert people_model(SimpleNamespace(settings=alone)) is None  # type: ignore[arg-type]
