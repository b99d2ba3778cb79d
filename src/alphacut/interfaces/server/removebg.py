"""``POST /v1.0/removebg`` and ``GET /v1.0/account``: remove.bg's API on ``alphacut serve``.

An existing remove.bg client works by changing only its base URL: the same fields
(``removebg_fields``), bodies (``removebg_body``), ``X-Api-Key`` header (the server's API-key
guard answers remove.bg's 403), response headers (``X-Width``, ``X-Height``, ``X-Type``,
``X-Credits-Charged``, ``X-Foreground-*``), JSON results on ``Accept: application/json``, and
every error as ``{"errors": [{"title", "code", "detail"}]}``. docs/removebg.md has the field
table and what differs.
"""

from __future__ import annotations

import base64
import logging
import math
from dataclasses import dataclass

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from alphacut.config import Config, OutputOptions, option_info, split_output
from alphacut.engine import Engine
from alphacut.engine.stages import compose, timed
from alphacut.errors import AlphacutError, Busy, ImageTooLarge, InvalidImage, InvalidOption
from alphacut.interfaces.server.removebg_body import read_fields
from alphacut.interfaces.server.removebg_fetch import FetchPolicy, FetchRefused, fetch
from alphacut.interfaces.server.removebg_fields import (
    RemoveBgError,
    RemoveBgRequest,
    parse_request,
    scale_roi,
)
from alphacut.interfaces.server.state import ServerState
from alphacut.types import Decoded

router = APIRouter()
log = logging.getLogger("alphacut.server")
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "zip": "application/zip"}
PEOPLE_TASKS = ("portrait-matting",)
REMOVEBG_HEADERS = ("X-Width", "X-Height", "X-Type", "X-Credits-Charged", "X-Foreground-Top",
                    "X-Foreground-Left", "X-Foreground-Width", "X-Foreground-Height")


@dataclass
class Rendered:
    """The encoded answer: bytes, their format, the picture's size and the subject's box
    (top, left, width, height) in it."""

    data: bytes
    format: str
    width: int
    height: int
    box: tuple[int, int, int, int]


@router.post("/v1.0/removebg", response_class=Response,
             summary="remove.bg-compatible background removal (docs/removebg.md)")
async def removebg(request: Request) -> Response:
    """remove.bg's ``POST /v1.0/removebg``: multipart, urlencoded or JSON fields
    (``image_file``, ``image_file_b64``, ``size``, ``format``, ``bg_color``, ``crop``...)."""
    try:
        return await _removebg(request)
    except RemoveBgError as exc:
        return error_response(exc)
    except AlphacutError as exc:
        return error_response(from_alphacut(exc, request))
    except Exception:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(RemoveBgError("Internal server error", "internal_error", 500))


@router.get("/v1.0/account", summary="remove.bg-compatible account (no credits are used)")
async def account() -> JSONResponse:
    """remove.bg's account document with this server's true values: nothing is charged
    (``X-Credits-Charged: 0``), so there are no credit balances or free calls to report."""
    credits = {"total": 0, "subscription": 0, "payg": 0, "enterprise": 0}
    return JSONResponse({"data": {"attributes": {"credits": credits,
                                                 "api": {"free_calls": 0, "sizes": "all"}}}})


async def _removebg(request: Request) -> Response:
    state: ServerState = request.app.state.alphacut
    state.limiter.check_admission()  # a full queue refuses before reading the upload
    fields, files = await read_fields(request, state.body_limits)
    margin_kind = option_info()["crop_margin"].kind
    req = parse_request(fields, files, set(Config.option_names()), margin_kind)
    if (req.image_url or req.background_url) and not state.settings.allow_url_fetch:
        raise RemoveBgError("Fetching image URLs is not enabled on this server",
                            "url_fetch_disabled",
                            detail="send image_file or image_file_b64 (the operator can allow "
                                   "URLs with alphacut serve --allow-url-fetch)")
    model = people_model(state) if req.type == "person" else None
    engine = state.engine({"model": model} if model else {})
    config = engine.config.replace(**req.options, mask_only=req.alpha_only)  # check now
    (rendered, timings), waited = await state.limiter.run(_job, engine, req, config,
                                                          fetch_policy(state))
    state.metrics.observe_stages(timings)
    return _answer(request, req, rendered, {"queue": waited, **timings}, engine.spec.name)


def people_model(state: ServerState) -> str | None:
    """A served people (portrait) model for ``type=person``; None: the default model."""
    from alphacut.models.registry import get_spec

    for name in state.settings.models:
        if get_spec(name).task in PEOPLE_TASKS:
            return name
    return None


def fetch_policy(state: ServerState) -> FetchPolicy:
    settings = state.settings
    return FetchPolicy(max_bytes=settings.url_fetch_max_bytes or settings.max_upload_bytes,
                       timeout=settings.url_fetch_timeout, redirects=settings.url_fetch_redirects)


# ------------------------------------------------------------------ the worker thread


def _job(engine: Engine, req: RemoveBgRequest, config: Config,
         policy: FetchPolicy) -> tuple[Rendered, dict[str, float]]:
    """Fetch (if URLs), decode, scale to ``size``, remove, compose and encode."""
    timings: dict[str, float] = {}
    image = req.image if req.image is not None else _fetch(req.image_url, "image_url", policy,
                                                           timings)
    decoded = engine.decode(image, timings, max_pixels=config.max_pixels)
    pixels, factor = _within(decoded, req.max_pixels, timings)
    matte, _ = split_output(req.options)
    if "roi" in matte and factor != 1.0:  # the client's pixels are the upload's
        matte["roi"] = scale_roi(matte["roi"], factor)
    result = engine.remove(pixels, **matte)
    result.meta = decoded.meta  # ICC profile and source format of the upload
    for stage, seconds in result.timings.items():  # after the upload's own decode/resize
        timings[stage] = timings.get(stage, 0.0) + seconds
    result.timings = timings
    background = None
    bg_bytes = req.background if req.background is not None else (
        _fetch(req.background_url, "bg_image_url", policy, result.timings)
        if req.background_url else None)
    if bg_bytes is not None:
        with timed(result.timings, "decode_bg"):
            background = engine.decode(bg_bytes, max_pixels=config.max_pixels).rgb
    with timed(result.timings, "composite"):
        pixels = compose(result, config.output, background)
        alpha = pixels if pixels.ndim == 2 else compose(result, _mask_of(config.output))
    with timed(result.timings, "encode"):
        rendered = encode_result(pixels, alpha, req.format, config.output, result.meta.icc_profile)
    return rendered, result.timings


def _fetch(url: str | None, name: str, policy: FetchPolicy, timings: dict[str, float]) -> bytes:
    try:
        with timed(timings, "fetch"):
            return fetch(url or "", policy)
    except FetchRefused as exc:
        raise RemoveBgError(f"Failed to download image from given {name}: {exc}",
                            "url_fetch_failed") from None


def _within(decoded: Decoded, max_pixels: int,
            timings: dict[str, float]) -> tuple[np.ndarray, float]:
    """The decoded photo as ``uint8 (H, W, 3|4)``, scaled down (area) to at most
    ``max_pixels`` (remove.bg's ``size``), and the scale factor (1.0: as uploaded). The
    matte is then made at the output's size."""
    import cv2

    rgb, alpha = decoded.rgb, decoded.alpha
    pixels = rgb if alpha is None else np.dstack([rgb, np.clip(alpha * 255 + 0.5, 0, 255)
                                                  .astype(np.uint8)])
    h, w = rgb.shape[:2]
    if h * w <= max_pixels:
        return pixels, 1.0
    with timed(timings, "resize"):
        scale = math.sqrt(max_pixels / (h * w))
        size = (max(1, math.floor(w * scale)), max(1, math.floor(h * scale)))
        return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), size[0] / w


def _mask_of(output: OutputOptions) -> OutputOptions:
    import dataclasses

    return dataclasses.replace(output, mask_only=True, bg_color=None, bg_image=None)


# ------------------------------------------------------------------ encoding


def encode_result(pixels: np.ndarray, alpha: np.ndarray, fmt: str, output: OutputOptions,
                  icc: bytes | None) -> Rendered:
    """Composed ``uint8`` pixels (grey, RGB or RGBA) and the subject's alpha ``uint8 (H, W)``
    -> remove.bg's format: auto (PNG with transparency, else JPG), png, jpg, webp or zip."""
    from alphacut.core.composite import subject_box

    box = subject_box(alpha.astype(np.float32) / 255.0, 0)
    if box is None:
        raise RemoveBgError("Could not identify foreground in image", "unknown_foreground",
                            detail="no subject was found in this image")
    if fmt == "auto":
        transparent = pixels.ndim == 3 and pixels.shape[2] == 4 and pixels[..., 3].min() < 255
        fmt = "png" if transparent else "jpg"
    y0, y1, x0, x1 = (int(v) for v in box)
    height, width = pixels.shape[:2]
    return Rendered(_encode(pixels, fmt, output, icc), fmt, width, height,
                    (y0, x0, x1 - x0, y1 - y0))


def _encode(pixels: np.ndarray, fmt: str, output: OutputOptions, icc: bytes | None) -> bytes:
    from alphacut.core.encode import encode

    icc = None if pixels.ndim == 2 else icc
    if fmt == "png":
        return encode(pixels, "png", icc_profile=icc,
                      png_compress_level=output.png_compress_level)
    if fmt == "webp":
        return encode(pixels, "webp", icc_profile=icc, quality=output.quality)
    if fmt == "jpg":
        return encode(_opaque(pixels), "jpeg", icc_profile=icc, quality=output.quality)
    return _zip(pixels, output, icc)


def _opaque(pixels: np.ndarray) -> np.ndarray:
    """RGBA over white (JPEG has no alpha); grey and RGB as they are."""
    if pixels.ndim == 2 or pixels.shape[2] == 3:
        return pixels
    from alphacut.core.composite import blend

    white = np.full_like(pixels[..., :3], 255)
    return blend(pixels[..., :3], pixels[..., 3].astype(np.float32) / 255.0, white)


def _zip(pixels: np.ndarray, output: OutputOptions, icc: bytes | None) -> bytes:
    """remove.bg's ZIP: ``color.jpg`` (the colours) and ``alpha.png`` (grey matte, white =
    subject); an opaque picture gets an all-white matte."""
    import io
    import zipfile

    from alphacut.core.encode import encode

    if pixels.ndim == 3 and pixels.shape[2] == 4:
        color, matte = pixels[..., :3], pixels[..., 3]
    else:
        color, matte = pixels, np.full(pixels.shape[:2], 255, np.uint8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("color.jpg", encode(np.ascontiguousarray(color), "jpeg",
                                             icc_profile=icc, quality=output.quality))
        archive.writestr("alpha.png", encode(np.ascontiguousarray(matte), "png",
                                             png_compress_level=output.png_compress_level))
    return buffer.getvalue()


# ------------------------------------------------------------------ answers


def _answer(request: Request, req: RemoveBgRequest, rendered: Rendered,
            timings: dict[str, float], model: str) -> Response:
    top, left, width, height = rendered.box
    headers = {
        "X-Width": str(rendered.width), "X-Height": str(rendered.height),
        "X-Credits-Charged": "0",
        "X-Foreground-Top": str(top), "X-Foreground-Left": str(left),
        "X-Foreground-Width": str(width), "X-Foreground-Height": str(height),
        "X-Alphacut-Model": model, "Cache-Control": "no-store",
        "X-Alphacut-Timings": ", ".join(f"{k}={v * 1000:.1f}" for k, v in timings.items()),
    }
    if req.type_level != "none":  # alphacut does not classify: the type asked for, or other
        headers["X-Type"] = "other" if req.type == "auto" else req.type
    if "application/json" in request.headers.get("accept", ""):
        data = {"result_b64": base64.b64encode(rendered.data).decode("ascii"),
                "foreground_top": top, "foreground_left": left,
                "foreground_width": width, "foreground_height": height}
        return JSONResponse({"data": data}, headers=headers)
    return Response(rendered.data, media_type=MEDIA[rendered.format], headers=headers)


def error_response(exc: RemoveBgError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)


def from_alphacut(exc: AlphacutError, request: Request) -> RemoveBgError:
    """alphacut's typed errors in remove.bg's statuses: input problems are 400, a full
    queue is 429 with Retry-After (remove.bg's rate limit), the rest keep their status."""
    message = str(exc)
    headers: dict[str, str] = {}
    if getattr(exc, "close_connection", False):
        headers["Connection"] = "close"
    if isinstance(exc, Busy):
        retry = getattr(exc, "retry_after", None) or \
            request.app.state.alphacut.limiter.retry_after()
        return RemoveBgError("Server busy, retry later", "rate_limit_exceeded", 429, message,
                             {**headers, "Retry-After": str(retry)})
    if isinstance(exc, ImageTooLarge):
        return RemoveBgError("File too large", "file_too_large", 400, message, headers)
    if isinstance(exc, InvalidImage):
        return RemoveBgError("Failed to read image", "invalid_image", 400, message, headers)
    if isinstance(exc, InvalidOption):
        return RemoveBgError("Invalid parameter", exc.code, 400, message, headers)
    if exc.http_status in (400, 408):
        return RemoveBgError("Bad request", exc.code, exc.http_status, message, headers)
    return RemoveBgError(type(exc).__name__, exc.code, exc.http_status, message, headers)
