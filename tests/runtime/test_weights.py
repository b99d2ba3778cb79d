"""ensure_weights with url and HF hub sources, offline, unpinned and user models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fake_registry import (
    PAYLOAD,
    PAYLOAD_SHA,
    FakeServer,
    Reply,
    cache_listing,
    installed,
    make_spec,
)

from alphacut.errors import OfflineError, WeightsError
from alphacut.models.spec import Source
from alphacut.runtime.weights import cache_dir, cached_path, ensure_weights

# --------------------------------------------------------------------------- url sources


def test_good_file_is_fetched_verified_cached_and_not_fetched_again(server: FakeServer) -> None:
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"))
    calls: list[tuple[str, int, int | None]] = []

    path = ensure_weights(spec, progress=lambda *args: calls.append(args))

    assert path == cache_dir() / spec.filename
    assert path.read_bytes() == PAYLOAD
    assert cache_listing() == installed(spec.filename)  # no temp debris
    assert calls[-1][1:] == (len(PAYLOAD), len(PAYLOAD))
    assert "fake" in calls[-1][0]
    assert cached_path(spec) == path
    assert ensure_weights(spec) == path
    assert server.total_hits == 1


def test_wrong_hash_raises_and_leaves_nothing(server: FakeServer) -> None:
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"), sha256="0" * 64)

    with pytest.raises(WeightsError, match="sha256 mismatch"):
        ensure_weights(spec)

    assert cache_listing() == []
    assert server.hits["/model.onnx"] == 1  # a complete but wrong file is not retried


def test_truncated_transfer_is_retried_then_fails_cleanly(server: FakeServer) -> None:
    server.routes["/cut.onnx"] = Reply(PAYLOAD[:1000], declared_length=len(PAYLOAD))
    spec = make_spec(Source("url", url=f"{server.url}/cut.onnx"))

    with pytest.raises(WeightsError, match="truncated") as info:
        ensure_weights(spec, retries=2)

    assert server.hits["/cut.onnx"] == 3
    assert "3 tries" in str(info.value)
    assert cache_listing() == []


def test_failing_sources_fall_through_to_a_good_one(server: FakeServer) -> None:
    server.routes["/cut.onnx"] = Reply(b"x", declared_length=10)
    server.routes["/busy.onnx"] = Reply(b"busy", status=503)
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(
        Source("url", url=f"{server.url}/missing.onnx"),
        Source("url", url=f"{server.url}/cut.onnx"),
        Source("url", url=f"{server.url}/busy.onnx"),
        Source("url", url=f"{server.url}/model.onnx"),
    )

    path = ensure_weights(spec, retries=1)

    assert path.read_bytes() == PAYLOAD
    assert server.hits["/missing.onnx"] == 1  # 404 is final for that source
    assert server.hits["/cut.onnx"] == 2
    assert server.hits["/busy.onnx"] == 2
    assert cache_listing() == installed(spec.filename)


def test_all_sources_failing_names_each_source_and_reason(server: FakeServer) -> None:
    spec = make_spec(
        Source("url", url=f"{server.url}/missing.onnx"),
        Source("url", url="file:///nonexistent/alphacut/model.onnx"),
    )

    with pytest.raises(WeightsError) as info:
        ensure_weights(spec, retries=0)

    message = str(info.value)
    assert f"{server.url}/missing.onnx: HTTP 404" in message
    assert "/nonexistent/alphacut/model.onnx" in message
    assert cache_listing() == []


def test_file_url_and_hf_hub_sources(server: FakeServer, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    local = tmp_path / "model.onnx"
    local.write_bytes(PAYLOAD)
    assert ensure_weights(make_spec(Source("url", url=local.as_uri()))).read_bytes() == PAYLOAD

    monkeypatch.setenv("ALPHACUT_HF_ENDPOINT", server.url)
    server.routes["/org/repo/resolve/v2/onnx/model.onnx"] = Reply(PAYLOAD)
    spec = replace(make_spec(Source("hf_hub", "org/repo", "v2", "onnx/model.onnx")), name="hf")
    assert ensure_weights(spec).read_bytes() == PAYLOAD
    assert server.total_hits == 1


# --------------------------------------------------------------------------- offline, unpinned


def test_offline_with_missing_file_names_the_path_and_never_connects(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"))
    monkeypatch.setenv("ALPHACUT_OFFLINE", "1")

    with pytest.raises(OfflineError) as info:
        ensure_weights(spec)

    message = str(info.value)
    assert str(cache_dir() / spec.filename) in message
    assert f"{server.url}/model.onnx" in message
    assert "alphacut models pull fake" in message
    assert "ALPHACUT_OFFLINE" in message
    monkeypatch.delenv("ALPHACUT_OFFLINE")
    with pytest.raises(OfflineError):
        ensure_weights(spec, offline=True)
    assert server.total_hits == 0


def test_offline_with_present_file_returns_it_without_network(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"))
    path = ensure_weights(spec)
    monkeypatch.setenv("ALPHACUT_OFFLINE", "true")
    server.routes.clear()

    assert ensure_weights(spec) == path
    assert server.total_hits == 1


def test_unpinned_model_is_refused_unless_allowed(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"), sha256=None)

    with pytest.raises(WeightsError, match="ALPHACUT_ALLOW_UNPINNED"):
        ensure_weights(spec)
    assert server.total_hits == 0

    monkeypatch.setenv("ALPHACUT_ALLOW_UNPINNED", "1")
    path = ensure_weights(spec)
    assert path.name == "fake-unpinned.onnx"
    sidecar = path.with_name(path.name + ".sha256")
    assert sidecar.read_text().split()[0] == PAYLOAD_SHA
    assert cache_listing() == sorted([*installed(path.name), sidecar.name])


def test_user_model_is_used_in_place(tmp_path: Path) -> None:
    own = tmp_path / "mine.onnx"
    spec = replace(make_spec(Source("url", url=own.as_uri())), local_path=str(own))
    with pytest.raises(WeightsError, match="not found"):
        ensure_weights(spec)
    own.write_bytes(PAYLOAD)
    assert cached_path(spec) == own
    assert ensure_weights(spec) == own
    assert cache_listing() == ["stamps"]  # its hash's stamp; the file is not copied
