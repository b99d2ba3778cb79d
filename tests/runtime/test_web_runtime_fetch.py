"""The web runtime's fetch from an npm registry (a fake one on loopback): the tarball is checked
against the registry's integrity, each file against its pin, and installed atomically."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from fake_registry import FakeServer, Reply, make_tgz

from alphacut.errors import WeightsError
from alphacut.web import runtime


def serve_runtime(server: FakeServer, files: dict[str, bytes], *,
                  integrity: str | None = None) -> None:
    """``onnxruntime-web@<pinned>`` whose ``package/dist/`` holds ``files``."""
    tgz = make_tgz([("package/package.json", b'{"name": "onnxruntime-web"}'),
                    *((f"package/dist/{name}", body) for name, body in files.items())])
    sri = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    doc = {"dist": {"tarball": f"{server.url}/t/ort.tgz", "integrity": integrity or sri}}
    path = f"/npm/{runtime.ORT_PACKAGE}/{runtime.ORT_VERSION}"
    server.routes[path] = Reply(json.dumps(doc).encode(), "application/json")
    server.routes["/t/ort.tgz"] = Reply(tgz)


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> dict[str, bytes]:
    """Two small runtime files, pinned by their sha256 (the real pins name the real files)."""
    files = {"ort.wasm.min.mjs": b"export const ort = 1;\n", "ort-wasm.wasm": b"\0asm" * 64}
    monkeypatch.setattr(runtime, "RUNTIME_FILES",
                        {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    monkeypatch.setenv("ALPHACUT_NPM_REGISTRY", f"{server.url}/npm/")
    return files


def test_the_runtime_is_fetched_verified_and_installed(server: FakeServer,
                                                       pinned: dict[str, bytes]) -> None:
    serve_runtime(server, {**pinned, "other.js": b"not wanted"})
    found = runtime.ensure_runtime(retries=1)
    assert {n: p.read_bytes() for n, p in found.items()} == pinned
    names = sorted(p.name for p in runtime.runtime_dir().iterdir())
    assert [n for n in names if not n.endswith(".verified")] == sorted(pinned)  # no temp files
    assert runtime.ensure_runtime(retries=1) == found  # cached: no second download
    assert server.hits["/t/ort.tgz"] == 1


def test_a_tarball_that_fails_its_integrity_installs_nothing(server: FakeServer,
                                                            pinned: dict[str, bytes]) -> None:
    serve_runtime(server, pinned, integrity="sha512-" + base64.b64encode(b"\0" * 64).decode())
    with pytest.raises(WeightsError, match="integrity"):
        runtime.ensure_runtime(retries=1)
    assert list(runtime.runtime_dir().iterdir()) == []


def test_a_file_off_its_pin_is_refused(server: FakeServer, pinned: dict[str, bytes]) -> None:
    serve_runtime(server, {**pinned, "ort-wasm.wasm": b"\0asm tampered"})
    with pytest.raises(WeightsError, match="sha256"):
        runtime.ensure_runtime(retries=1)
    assert not (runtime.runtime_dir() / "ort-wasm.wasm").exists()
