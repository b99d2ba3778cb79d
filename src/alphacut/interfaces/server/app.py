"""The app factory: ``create_app(settings) -> FastAPI``.

One app owns its state (``app.state.alphacut``, see ``state.py``): the settings, the limiter,
the metrics registry and the engines, shared by every request.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from alphacut import __version__
from alphacut.errors import AlphacutError
from alphacut.interfaces.server import camera, docs, removebg, routes, web_routes
from alphacut.interfaces.server.access import AccessLogMiddleware
from alphacut.interfaces.server.guard import ApiKeyMiddleware, HostGuardMiddleware
from alphacut.interfaces.server.metrics import MetricsMiddleware
from alphacut.interfaces.server.settings import ServerSettings
from alphacut.interfaces.server.state import STATIC_DIR, ServerState

# The page is ES modules: browsers refuse a module script whose type is not JavaScript (with
# nosniff), and some systems' MIME tables map .js to text/plain.
mimetypes.add_type("text/javascript", ".js")
log = logging.getLogger("alphacut.server")

# The page and the API fetch nothing from anywhere else, and the browser is told so.
CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
       "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # with COOP, makes the page cross-origin isolated: the in-page model may use threads
    (b"cross-origin-embedder-policy", b"require-corp"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """A ready-to-serve app: API under /v1, the web page at /, metrics, health, docs."""
    settings = (settings or ServerSettings()).resolved()
    state = ServerState(settings)
    app = FastAPI(title="alphacut", version=__version__, lifespan=_lifespan,
                  docs_url=None, redoc_url=None,
                  description="Background removal: cut-outs and alpha masks over HTTP.")
    app.state.alphacut = state
    _install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(docs.router)
    app.include_router(removebg.router)
    app.include_router(web_routes.router)
    app.include_router(camera.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.cors_origins:
        _add_cors(app, settings.cors_origins)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    if settings.api_keys:
        app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys)
    app.add_middleware(HostGuardMiddleware, names=settings.host_names())
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.access_log:
        app.add_middleware(AccessLogMiddleware)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: ServerState = app.state.alphacut
    if state.settings.preload:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: state.engine({}).load())
    try:
        yield
    finally:
        state.limiter.shutdown()


def _add_cors(app: FastAPI, origins: tuple[str, ...]) -> None:
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["GET", "POST"],
                       allow_headers=["*"], expose_headers=["X-Alphacut-Timings", "Retry-After",
                                                            "X-Alphacut-Model",
                                                            *removebg.REMOVEBG_HEADERS])


def error_response(code: str, detail: str, status: int,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape: ``{"error": code, "detail": message}``."""
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AlphacutError)
    async def alphacut_error(request: Request, exc: AlphacutError) -> JSONResponse:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is None and exc.http_status == 503:
            retry_after = request.app.state.alphacut.limiter.retry_after()
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if getattr(exc, "close_connection", False):  # e.g. a body that never came
            headers["Connection"] = "close"
        return error_response(exc.code, str(exc), exc.http_status, headers or None)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return error_response(codes.get(exc.status_code, "http_error"), str(exc.detail),
                              exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response("invalid_request", str(exc.errors()), 422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error_response("internal_error", "internal server error", 500)


class SecurityHeadersMiddleware:
    """Adds CSP (nothing from other origins), nosniff and no-referrer to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, add_headers)
