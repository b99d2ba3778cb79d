"""Every model a request would run is on the server's allowlist, and no client value is read
as a path."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpers import PETS

pytestmark = pytest.mark.model


@pytest.mark.parametrize("options", [{"ensemble": "u2net"}, {"preset": "best"},
                                     {"ensemble": "u2netp,isnet-general-q"},
                                     {"model": "u2net"}])
def test_models_off_the_allowlist_are_refused_before_loading(server_url: str,
                                                             options: dict[str, str]) -> None:
    from alphacut.runtime.session import loaded_models

    before = set(loaded_models())
    response = httpx.post(f"{server_url}/v1/remove", params=options,
                          content=PETS[0].read_bytes(), timeout=60)
    assert response.status_code == 422
    assert response.json()["error"] == "model_not_served"
    assert "not served here" in response.json()["detail"]
    assert set(loaded_models()) <= before | {"u2netp"}


def test_paths_as_model_names_reveal_nothing(server_url: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text('{"secret_key": 1}')
    details = []
    for name in (str(spec), str(tmp_path / "missing.json"), str(tmp_path / "x.onnx")):
        for field in ("model", "ensemble"):
            response = httpx.post(f"{server_url}/v1/mask", params={field: name},
                                  content=PETS[0].read_bytes(), timeout=60)
            assert response.status_code == 422
            details.append(response.json()["detail"].replace(name, "NAME"))
    assert "secret_key" not in " ".join(details)
    assert len(set(details[0::2])) == 1 and len(set(details[1::2])) == 1  # exists or not: same


def test_the_options_document_lists_each_option_once(server_url: str) -> None:
    document = httpx.get(f"{server_url}/v1/options", timeout=30).json()
    names = [o["name"] for o in document["options"]]
    assert len(names) == len(set(names)) and "matting_band" in names
    assert document["default_model"] == "u2netp"
    models = httpx.get(f"{server_url}/v1/models", timeout=30).json()["models"]
    assert models[0]["presets"] == ["fast", "balanced"]  # best needs a partner not served
    assert set(document["presets"]) == {"fast", "balanced", "best"}
    assert {"png", "jpeg", "webp"} <= {f["name"] for f in document["formats"] if f["writable"]}
