"""The same photo and options give byte-identical files from every front door."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PETS

OPTIONS = {"bg": "#3366cc", "format": "png", "crop": True}


@pytest.mark.model
def test_cli_library_and_http_write_the_same_bytes(u2netp_remover, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("fastapi")
    import httpx
    from server_helpers import live_server

    import alphacut
    from alphacut.interfaces.server.settings import ServerSettings

    image = PETS[1]
    cli_out = tmp_path / "cli.png"
    subprocess.run([sys.executable, "-m", "alphacut.interfaces.cli", "remove", str(image), "-o",
                    str(cli_out), "-m", "u2netp", "--bg", OPTIONS["bg"], "--crop", "-q"],
                   check=True, timeout=300)
    lib_out = alphacut.api.save(alphacut.remove(image, model="u2netp"),
                                tmp_path / "lib.png", **OPTIONS)
    settings = ServerSettings(model="u2netp", models=("u2netp",))
    with live_server(settings) as url:
        response = httpx.post(f"{url}/v1/remove", params={"model": "u2netp", **OPTIONS,
                                                          "crop": "true"},
                              content=image.read_bytes(), timeout=120)
    assert response.status_code == 200, response.text
    cli_bytes, lib_bytes = cli_out.read_bytes(), lib_out.read_bytes()
    assert cli_bytes == lib_bytes
    assert response.content == lib_bytes


@pytest.mark.model
def test_result_rgba_is_what_save_writes(u2netp_remover, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    import alphacut

    result = u2netp_remover.remove(PETS[0])
    path = alphacut.api.save(result, tmp_path / "cut.png")
    with Image.open(path) as im:
        written = np.asarray(im.convert("RGBA"))
    assert np.array_equal(result.rgba, written)
    assert (result.rgba[..., :3][result.rgba[..., 3] == 0] == 0).all()  # blanked under alpha 0


def test_output_options_given_to_remove_are_an_error_not_ignored(u2netp_remover) -> None:  # type: ignore[no-untyped-def]
    import alphacut

    with pytest.raises(alphacut.InvalidOption, match="bg"):
        u2netp_remover.remove(PETS[0], bg="white")
    result, data = u2netp_remover.process(PETS[0], bg="white", format="jpeg")
    assert data[:3] == b"\xff\xd8\xff" and result.alpha.shape == result.image.shape[:2]


def test_library_calls_do_not_inherit_options_from_earlier_calls() -> None:
    import numpy as np

    import alphacut

    first = alphacut.remove(PETS[0], model="u2netp", matting=False, decontaminate=False)
    default = alphacut.remove(PETS[0], model="u2netp")
    again = alphacut.remove(PETS[0], model="u2netp", matting=False, decontaminate=False)
    assert np.array_equal(first.alpha, again.alpha)
    assert not np.array_equal(first.alpha, default.alpha)  # the default's matting ran
