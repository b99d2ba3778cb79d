"""HTTP routes: translate a request into flat Config options, run the pipeline under the
limiter, and answer with image bytes (or a JSON error from the app's handlers).

The request body is read into memory by ``upload`` (never spooled to disk); the heavy work
runs in the limiter's thread pool; nothing is fetched from URLs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from alphacut import __version__
from alphacut.config import Config, split_output
from alphacut.engine import Engine
from alphacut.engine.stages import timed
from alphacut.errors import ImageTooLarge, InvalidOption
from alphacut.formats import mime_type
from alphacut.interfaces.server import options as opts
from alphacut.interfaces.server.state import STATIC_DIR, ServerState
from alphacut.interfaces.server.upload import Upload, read_upload
from alphacut.models.registry import get_spec

router = APIRouter()

MAX_MASK_SIDE = 65535
_IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}, "image/tiff": {},
                      "image/vnd.adobe.photoshop": {}, "application/zip": {}},
          "description": "the encoded image; X-Alphacut-Timings gives per-stage ms"},
    400: {"description": "malformed request"},
    413: {"description": "upload or pixel count over the limit"},
    415: {"description": "not an image alphacut can read"},
    422: {"description": "corrupt image, or an unknown/invalid option"},
    503: {"description": "queue full (see Retry-After)"},
    504: {"description": "processing took longer than the timeout"},
}


def app_state(request: Request) -> ServerState:
    return request.app.state.alphacut  # type: ignore[no-any-return]


# ------------------------------------------------------------------ image endpoints


@router.post("/v1/remove", response_class=Response, responses=_IMAGE_RESPONSES,
             summary="Remove the background", openapi_extra=opts.openapi_body(
                 opts.remove_option_names(), background=True))
async def remove_background(request: Request) -> Response:
    """Cut-out (PNG/WebP/TIFF), subject over a colour or an uploaded image (any format), or
    the mask (mask_only); a layered PSD (format=psd) or a zip of one PNG per subject plus
    layer-layers.json (layers=true). Send the image as the raw body or as the multipart file
    "file" (and a background image as the file "bg"); options, named as in the CLI, as query
    or form fields."""
    state = app_state(request)
    state.limiter.check_admission()  # a full queue refuses before reading the upload
    upload = await read_upload(request, state.body_limits)
    options = _options(request, upload, opts.remove_option_names(), state)
    engine = state.engine(options)
    options.pop("model", None)
    config = engine.config.replace(**options)  # validate before queueing
    _check_background_upload(upload, options, config)
    (data, timings), waited = await state.limiter.run(_remove_job, engine, upload, options,
                                                      config)
    media = "application/zip" if config.output.layers else mime_type(config.output.format)
    return _image_response(state, data, media, timings, waited, engine.spec.name)


@router.post("/v1/mask", response_class=Response, responses=_IMAGE_RESPONSES,
             summary="The alpha mask as 8-bit PNG", openapi_extra=opts.openapi_body(
                 opts.mask_option_names(), background=False))
async def alpha_mask(request: Request) -> Response:
    """The final alpha matte as an 8-bit grey PNG, at the image's size or at width x height
    (give one of them to keep the aspect ratio): for compositing on the client."""
    state = app_state(request)
    state.limiter.check_admission()  # a full queue refuses before reading the upload
    upload = await read_upload(request, state.body_limits)
    if upload.background is not None:
        raise InvalidOption("/v1/mask takes no background image")
    options = _options(request, upload, opts.mask_option_names(), state)
    size = (options.pop("width", None), options.pop("height", None))
    _check_mask_size(size, options["max_pixels"])
    engine = state.engine(options)
    options.pop("model", None)
    engine.config.replace(**options)  # validate before queueing
    (data, timings), waited = await state.limiter.run(_mask_job, engine, upload.image, options,
                                                      size)
    return _image_response(state, data, "image/png", timings, waited, engine.spec.name)


def _options(request: Request, upload: Upload, valid: list[str],
             state: ServerState) -> dict[str, Any]:
    """Query and form fields (form wins), typed, checked, ``max_pixels`` capped."""
    raw = {**dict(request.query_params), **upload.fields}
    parsed = opts.parse_options(raw, valid)
    opts.check_background(parsed)
    opts.check_strokes(parsed, upload.strokes)
    return opts.limit_pixels(parsed, state.settings.max_pixels)


def _check_background_upload(upload: Upload, options: dict[str, Any], config: Config) -> None:
    if upload.background is None:
        return
    if config.output.mask_only:
        raise InvalidOption("a background image cannot be combined with mask_only")
    if "bg" in options:
        raise InvalidOption("give either a bg colour or a bg image file, not both")


def _check_mask_size(size: tuple[int | None, int | None], max_pixels: int) -> None:
    for value in size:
        if value is not None and not 1 <= value <= MAX_MASK_SIDE:
            raise InvalidOption(f"width and height must be within 1..{MAX_MASK_SIDE}")
    width, height = size
    if width is not None and height is not None and width * height > max_pixels:
        raise ImageTooLarge(f"requested mask {width}x{height} is over the limit of "
                            f"{max_pixels} pixels")


def _remove_job(engine: Engine, upload: Upload, options: dict[str, Any],
                config: Config) -> tuple[bytes, dict[str, float]]:
    """Worker thread: the engine's stages, with an uploaded background if one came."""
    from alphacut.engine.stages import render

    result = engine.remove(upload.image, **split_output(options)[0])
    background = None
    if upload.background is not None:
        with timed(result.timings, "decode_bg"):
            background = engine.decode(upload.background, max_pixels=config.max_pixels).rgb
    data = render(result, config.output, background)
    return data, result.timings


def _mask_job(engine: Engine, image: bytes, options: dict[str, Any],
              size: tuple[int | None, int | None]) -> tuple[bytes, dict[str, float]]:
    """Worker thread: the alpha matte, resized if asked, as 8-bit PNG."""
    from alphacut.core.composite import alpha_to_u8
    from alphacut.core.encode import encode

    max_pixels = int(options.get("max_pixels", engine.config.max_pixels))
    result = engine.remove(image, **{**split_output(options)[0], "decontaminate": False})
    with timed(result.timings, "resize"):
        alpha = _resized(result.alpha, size, max_pixels)
    with timed(result.timings, "encode"):
        data = encode(alpha_to_u8(alpha), "png")
    return data, result.timings


def _resized(alpha: np.ndarray, size: tuple[int | None, int | None],
             max_pixels: int) -> np.ndarray:
    """``float32 (h, w)`` -> ``float32 (height, width)``; one side given keeps the aspect."""
    import cv2

    h, w = alpha.shape
    width, height = size
    if width is None and height is None:
        return alpha
    width = width or max(1, round(w * height / h))  # type: ignore[operator]
    height = height or max(1, round(h * width / w))
    if width * height > max_pixels:
        raise ImageTooLarge(f"requested mask {width}x{height} is over the limit of "
                            f"{max_pixels} pixels")
    if (height, width) == (h, w):
        return alpha
    shrink = width * height < w * h
    return cv2.resize(alpha, (width, height),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _image_response(state: ServerState, data: bytes, media_type: str,
                    timings: dict[str, float], waited: float, model: str) -> Response:
    state.metrics.observe_stages(timings)
    stages = {"queue": waited, **timings}
    headers = {
        "X-Alphacut-Timings": ", ".join(f"{k}={v * 1000:.1f}" for k, v in stages.items()),
        "Server-Timing": ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in stages.items()),
        "X-Alphacut-Model": model,
        "Cache-Control": "no-store",
    }
    return Response(content=data, media_type=media_type, headers=headers)


# ------------------------------------------------------------------ information


@router.get("/v1/models", summary="Models this server can run")
async def models(request: Request) -> JSONResponse:
    """Name, task, size, licence, whether cached and loaded, and which is the default."""
    from alphacut.runtime.weights import cached_path

    state = app_state(request)
    loaded = set(state.loaded_models())
    items = []
    for name in state.settings.models:
        spec = get_spec(name)
        items.append({
            "name": spec.name, "task": spec.task, "size_bytes": spec.size_bytes,
            "license": spec.license, "cached": cached_path(spec) is not None,
            "loaded": spec.name in loaded, "default": spec.name == state.settings.model,
            "input_size": list(spec.input_size), "description": spec.description,
            "presets": state.presets_for(name),
        })
    return JSONResponse({"models": items})


@router.get("/v1/options", summary="Every option with its type, range and help")
async def options_document(request: Request) -> JSONResponse:
    """The options ``/v1/remove`` and ``/v1/mask`` take (the same names as the CLI's flags),
    each with type, default, range, choices, help and the endpoints that take it; the
    presets' settings; the image formats. The web page builds its controls from this."""
    return JSONResponse(opts.options_document(app_state(request).settings.model))


@router.get("/healthz", summary="Liveness and load")
async def healthz(request: Request) -> JSONResponse:
    state = app_state(request)
    return JSONResponse({
        "status": "ok", "version": __version__, "default_model": state.settings.model,
        "models_loaded": state.loaded_models(), "in_flight": state.limiter.in_flight,
        "waiting": state.limiter.waiting, "concurrency": state.settings.concurrency,
        "queue": state.settings.queue, "max_upload_bytes": state.settings.max_upload_bytes,
        "max_pixels": state.settings.max_pixels,
    })


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    body, content_type = app_state(request).metrics.render()
    return Response(content=body, media_type=content_type)


@router.get("/", include_in_schema=False)
async def index() -> HTMLResponse:
    return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))

