"""The layout and colour options through every front door, with the real u2netp model: the
CLI's flags (``--crop-margin`` and its alias ``--margin``), the library and HTTP fields write
the same bytes at the asked canvas size."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import PETS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

OPTIONS = {"bg": "#f0e0c0", "size": "320x240", "scale": "70%", "position": "bottom",
           "crop": True, "crop_margin": "5% 10px", "match_colour": 0.3}


def _cli(image: Path, out: Path, margin_flag: str) -> None:
    subprocess.run([sys.executable, "-m", "alphacut.interfaces.cli", "remove", str(image), "-o",
                    str(out), "-m", "u2netp", "--bg", OPTIONS["bg"], "--size", OPTIONS["size"],
                    "--scale", OPTIONS["scale"], "--position", OPTIONS["position"], "--crop",
                    margin_flag, OPTIONS["crop_margin"], "--match-colour", "0.3", "-q"],
                   check=True, timeout=300)


@pytest.mark.model
def test_cli_library_and_http_agree_on_a_marketplace_layout(u2netp_remover, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("fastapi")
    import httpx
    from server_helpers import live_server

    import alphacut
    from alphacut.interfaces.server.settings import ServerSettings

    image = PETS[1]
    _cli(image, tmp_path / "cli.png", "--crop-margin")
    _cli(image, tmp_path / "alias.png", "--margin")
    lib = alphacut.api.save(u2netp_remover.remove(image), tmp_path / "lib.png", **OPTIONS)
    settings = ServerSettings(model="u2netp", models=("u2netp",))
    fields = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in OPTIONS.items()}
    with live_server(settings) as url:
        response = httpx.post(f"{url}/v1/remove", params={"model": "u2netp", **fields},
                              content=image.read_bytes(), timeout=120)
    assert response.status_code == 200, response.text
    written = lib.read_bytes()
    assert (tmp_path / "cli.png").read_bytes() == written
    assert (tmp_path / "alias.png").read_bytes() == written
    assert response.content == written
    pixels = np.asarray(Image.open(io.BytesIO(written)).convert("RGB"))
    assert pixels.shape == (240, 320, 3)
    assert (pixels[:5] == (240, 224, 192)).all()  # free space above the subject: background


def test_options_document_lists_the_layout_options() -> None:
    from alphacut.config import option_info

    infos = option_info()
    for name in ("size", "scale", "position", "crop_margin", "match_colour"):
        assert infos[name].endpoints == ("remove",)
        assert infos[name].describe()["type"] in ("string", "number")
    assert infos["crop_margin"].flag == "--crop-margin" and infos["crop_margin"].short == "--margin"
