"""``/web/*``: what the page needs to run a model itself (no image ever comes here).

- ``GET /web/status.json``: is the runtime cached, which page models are served and ready;
- ``GET /web/ort/<file>``: the pinned ONNX Runtime Web files (``alphacut.web.runtime``);
- ``GET /web/models/<name>.onnx`` / ``.json`` / ``.license.txt``: weights, spec, licence.

Every response also carries COOP/COEP/CORP (see ``app.SECURITY_HEADERS``), so the page is
cross-origin isolated and its worker may use threads. A request only checks the caches: a
missing runtime answers 503 ``web_runtime_missing``, missing weights 503 ``weights_missing``.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from alphacut.errors import ModelNotServed, WebRuntimeMissing
from alphacut.interfaces.server.state import ServerState
from alphacut.interfaces.server.weights import require_weights
from alphacut.models.spec import ModelSpec

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")

router = APIRouter(prefix="/web", include_in_schema=False)

REVALIDATE = {"Cache-Control": "no-cache"}  # ETag + 304: a second visit moves no body


def _state(request: Request) -> ServerState:
    return request.app.state.alphacut  # type: ignore[no-any-return]


def _served_spec(state: ServerState, name: str) -> ModelSpec:
    """The spec of a model this server serves (allowlist first: no client text reaches the
    registry as a path)."""
    from alphacut.models.registry import get_spec

    if name not in state.settings.models:
        raise ModelNotServed(f"model {name!r} is not served here")
    return get_spec(name)


def _file(request: Request, path: Any, media_type: str | None = None,
          headers: dict[str, str] | None = None) -> Response:
    """The file, or 304 when the client's ``If-None-Match`` names its current ETag."""
    response = FileResponse(path, media_type=media_type, stat_result=os.stat(path),
                            headers={**REVALIDATE, **(headers or {})})
    etag = response.headers.get("etag")
    seen = request.headers.get("if-none-match", "")
    if etag and etag in (t.strip().removeprefix("W/") for t in seen.split(",")):
        return Response(status_code=304, headers={"ETag": etag, **REVALIDATE})
    return response


@router.get("/status.json")
async def status(request: Request) -> JSONResponse:
    """``{"runtime": {...}, "models": [...], "default_model": name}`` for the page."""
    from alphacut.runtime.weights import cached_path
    from alphacut.web import runtime
    from alphacut.web.models import DEFAULT_PAGE_MODEL, PAGE_MODELS, is_copyleft

    state = _state(request)
    ready = runtime.runtime_status()
    models: list[dict[str, Any]] = []
    for name in PAGE_MODELS:
        if name not in state.settings.models:
            continue
        spec = _served_spec(state, name)
        models.append({"name": name, "license": spec.license, "size_bytes": spec.size_bytes,
                       "copyleft": is_copyleft(spec.license), "description": spec.description,
                       "ready": cached_path(spec) is not None})
    default = DEFAULT_PAGE_MODEL if any(m["name"] == DEFAULT_PAGE_MODEL for m in models) \
        else (models[0]["name"] if models else None)
    return JSONResponse({
        "runtime": {"package": runtime.ORT_PACKAGE, "version": runtime.ORT_VERSION,
                    "ready": len(ready) == len(runtime.RUNTIME_FILES),
                    "license": runtime.ORT_LICENSE},
        "models": models, "default_model": default}, headers=REVALIDATE)


@router.get("/ort/{file}")
async def ort_file(request: Request, file: str) -> Response:
    """One pinned runtime file, verified in the cache (never fetched here)."""
    from alphacut.web import runtime

    if file not in runtime.RUNTIME_FILES:
        raise HTTPException(404, f"no runtime file {file!r}")
    path = runtime.runtime_status().get(file)
    if path is None:
        raise WebRuntimeMissing(
            "the in-browser runtime is not installed on this server; ask its operator to "
            "restart `alphacut serve` while online (it fetches the runtime at start-up), or "
            "use the mask-only or server mode")
    return _file(request, path)


@router.get("/models/{name}.onnx")
async def model_weights(request: Request, name: str) -> Response:
    """The verified weights of a served model."""
    from alphacut.runtime.weights import ensure_weights

    spec = _served_spec(_state(request), name)
    require_weights([spec])
    path = ensure_weights(spec, offline=True)
    return _file(request, path, "application/octet-stream", {"X-Alphacut-License": spec.license})


@router.get("/models/{name}.json")
async def model_spec(request: Request, name: str) -> JSONResponse:
    """The spec the worker preprocesses with, plus the licence (``alphacut.web.models``)."""
    from alphacut.web.models import page_spec

    spec = _served_spec(_state(request), name)
    return JSONResponse(page_spec(spec, f"/web/models/{name}.onnx"), headers=REVALIDATE)


@router.get("/models/{name}.license.txt")
async def model_license(request: Request, name: str) -> PlainTextResponse:
    from alphacut.web.models import license_notice

    return PlainTextResponse(license_notice(_served_spec(_state(request), name)))

