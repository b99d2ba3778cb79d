"""The pinned web runtime in the cache, and the /web routes (real files, real app)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from web_fixtures import linked_home, web_settings

from alphacut.errors import OfflineError
from alphacut.web import runtime

pytestmark = pytest.mark.model


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    home = linked_home(tmp_path / "home")
    monkeypatch.setenv("ALPHACUT_HOME", str(home))
    monkeypatch.setenv("ALPHACUT_OFFLINE", "1")
    return home


def client():  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from alphacut.interfaces.server.app import create_app

    return TestClient(create_app(web_settings()), base_url="http://127.0.0.1")


def test_offline_and_missing_says_what_is_missing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ALPHACUT_HOME", str(tmp_path))
    assert runtime.runtime_status() == {}
    with pytest.raises(OfflineError, match=r"ort-wasm-simd-threaded\.wasm"):
        runtime.ensure_runtime(offline=True)


def test_a_damaged_runtime_file_is_not_served(home) -> None:  # type: ignore[no-untyped-def]
    from alphacut.runtime.weights.verify import clear_memo

    assert set(runtime.ensure_runtime(offline=True)) == set(runtime.RUNTIME_FILES)
    folder = runtime.runtime_dir()
    target = folder / "ort.wasm.min.mjs"
    real = target.resolve()
    target.unlink()
    shutil.copyfile(real, target)
    with open(target, "ab") as f:
        f.write(b"// tampered")
    clear_memo()
    assert "ort.wasm.min.mjs" not in runtime.runtime_status()
    res = client().get("/web/ort/ort.wasm.min.mjs")
    assert res.status_code == 503 and res.json()["error"] == "web_runtime_missing"
    assert "/" not in res.json()["detail"].replace("use the mask-only or server mode", "")


def test_web_routes_serve_runtime_models_and_licences_isolated(home) -> None:  # type: ignore[no-untyped-def]
    c = client()
    status = c.get("/web/status.json").json()
    assert status["runtime"]["ready"] is True and status["default_model"] == "u2netp"
    assert [m["name"] for m in status["models"]] == ["u2netp"]
    wasm = c.get("/web/ort/ort-wasm-simd-threaded.wasm")
    assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
    for name in ("cross-origin-opener-policy", "cross-origin-embedder-policy",
                 "cross-origin-resource-policy"):
        assert name in wasm.headers
    assert "'wasm-unsafe-eval'" in wasm.headers["content-security-policy"]
    again = c.get("/web/ort/ort-wasm-simd-threaded.wasm",
                  headers={"If-None-Match": wasm.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    spec = c.get("/web/models/u2netp.json").json()
    assert spec["onnx_url"] == "/web/models/u2netp.onnx" and spec["copyleft"] is False
    assert spec["input_size"] == [320, 320] and spec["scale"] == "divide_max"
    weights = c.get("/web/models/u2netp.onnx")
    assert len(weights.content) == spec["size_bytes"]
    assert weights.headers["x-alphacut-license"] == "Apache-2.0"
    assert "Apache-2.0" in c.get("/web/models/u2netp.license.txt").text
    assert c.get("/web/ort/../../etc/passwd").status_code == 404
    assert c.get("/web/ort/ort.all.min.mjs").status_code == 404
    refused = c.get("/web/models/isnet-general-q.onnx")
    assert refused.status_code == 422 and refused.json()["error"] == "model_not_served"


def test_copyleft_notice_says_it_is_distribution() -> None:
    from alphacut.models.registry import get_spec
    from alphacut.web.models import is_copyleft, license_notice

    spec = get_spec("isnet-general-q")
    assert is_copyleft(spec.license) and "distributes" in license_notice(spec)
    assert not is_copyleft(get_spec("u2netp").license)
