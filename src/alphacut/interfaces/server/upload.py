"""Read a request body into memory under a byte cap: a raw image, or multipart form data.

Nothing touches the disk. Starlette's own ``request.form()`` would put every uploaded file
over 1 MiB into a ``SpooledTemporaryFile`` that rolls over to a real temporary file, so the
multipart body is parsed here instead, streaming, with python-multipart's low-level parser and
plain ``bytearray`` buffers.

A declared ``Content-Length`` over the cap is refused (413) before a single body byte is read;
a chunked body is refused as soon as the running total passes the cap. Every body is read
under a total deadline (408) and holds its bytes in the server-wide ``UploadBudget`` while it
is being read (503 when the budget is spent). A multipart boundary must follow RFC 2046 (1 to
70 characters) and the body must end with its closing boundary (else 400).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import ClientDisconnect, Request

from alphacut.errors import BadRequest, BodyTimeout, ImageTooLarge
from alphacut.interfaces.server.limits import UploadBudget

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and option fields around the file
MAX_FIELD_BYTES = 4096
MAX_STROKES_BYTES = 1 << 20  # the ``strokes`` field: JSON polylines from the page's brush
MAX_PARTS = 32
FILE_FIELDS = ("file", "image")
# RFC 2046 section 5.1.1: 1 to 70 of these characters, not ending in a space.
BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


@dataclass(frozen=True)
class BodyLimits:
    """How a body may be read: at most ``max_bytes``, within ``timeout`` seconds, inside the
    shared ``budget`` (None: no budget, as in a test calling the reader directly)."""

    max_bytes: int
    timeout: float = 60.0
    budget: UploadBudget | None = None


@dataclass
class Upload:
    """What a request carried: the image bytes, text fields, and an optional background image
    and stroke picture (the multipart files ``bg`` and ``strokes``)."""

    image: bytes
    fields: dict[str, str] = field(default_factory=dict)
    background: bytes | None = None
    strokes: bytes | None = None


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


async def read_upload(request: Request, limits: BodyLimits | int) -> Upload:
    """The request's image (raw body or multipart ``file``), fields and ``bg`` image."""
    limits = limits if isinstance(limits, BodyLimits) else BodyLimits(limits)
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    if kind == b"multipart/form-data":
        return await _read_multipart(request, _boundary(params.get(b"boundary")), limits)
    # Any other body is the image itself, whatever it is labelled (``curl --data-binary``
    # says application/x-www-form-urlencoded); the decoder decides whether it is one.
    return Upload(image=await read_capped(request, limits))


def _boundary(value: bytes | None) -> bytes:
    """The multipart boundary, checked against RFC 2046 (400 otherwise)."""
    if not value:
        raise BadRequest("multipart body without a boundary")
    if not BOUNDARY.fullmatch(value):
        raise BadRequest("invalid multipart boundary: RFC 2046 allows 1 to 70 letters, digits "
                         "and '()+_,-./:=? (no trailing space)")
    return value


def check_declared_length(request: Request, limit: int) -> int | None:
    """The declared ``Content-Length``; 413 from the headers alone when it is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit() or len(declared) > 18:
        raise BadRequest("invalid Content-Length header")
    if int(declared) > limit:
        raise ImageTooLarge(f"request body is {int(declared)} bytes, over the limit of "
                            f"{limit} bytes")
    return int(declared)


async def read_capped(request: Request, limits: BodyLimits | int) -> bytes:
    """The raw body, refusing more than ``max_bytes`` (413) without reading the rest."""
    limits = limits if isinstance(limits, BodyLimits) else BodyLimits(limits)
    body = bytearray()
    await stream_body(request, limits.max_bytes, body.extend, limits)
    return bytes(body)


async def stream_body(request: Request, limit: int, consume: Callable[[bytes], object],
                      limits: BodyLimits) -> None:
    """Feed every body chunk to ``consume``: at most ``limit`` bytes (413), all of them within
    ``limits.timeout`` seconds (408), reserved in ``limits.budget`` while reading (503)."""
    declared = check_declared_length(request, limit)
    reserved = 0
    budget = limits.budget

    def reserve(total: int) -> None:
        nonlocal reserved
        if budget is not None and total > reserved:
            budget.take(total - reserved)
            reserved = total

    try:
        reserve(declared or 0)
        total = 0
        async with asyncio.timeout(limits.timeout):
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ImageTooLarge(f"request body is over the limit of {limit} bytes")
                reserve(total)
                consume(chunk)
    except TimeoutError:
        raise BodyTimeout(f"the request body did not arrive within {limits.timeout:g} s") \
            from None
    except ClientDisconnect:
        raise BadRequest("the client disconnected before sending the whole body") from None
    finally:
        if budget is not None:
            budget.give(reserved)


async def _read_multipart(request: Request, boundary: bytes, limits: BodyLimits) -> Upload:
    collector = _PartCollector(limits.max_bytes)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        await stream_body(request, limits.max_bytes + MULTIPART_OVERHEAD, parser.write, limits)
        parser.finalize()
    except FormParserError as exc:
        raise BadRequest(f"malformed multipart body: {exc}") from exc
    if parser.state != MultipartState.END:
        raise BadRequest("malformed multipart body: it ends before its closing boundary")
    return _upload_from_parts(collector.parts)


class _PartCollector:
    """python-multipart callbacks that gather parts into memory, with per-part caps."""

    def __init__(self, max_file_bytes: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.parts: list[_Part] = []
        self._header_name = b""
        self._header_value = b""

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value_data, "on_header_end": self._header_end,
                "on_part_data": self._data}

    def _begin(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise BadRequest(f"too many multipart parts (limit {MAX_PARTS})")
        self.parts.append(_Part())

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            _, options = parse_options_header(self._header_value)
            part = self.parts[-1]
            part.name = options.get(b"name", b"").decode("utf-8", "replace")
            filename = options.get(b"filename")
            part.filename = None if filename is None else filename.decode("utf-8", "replace")
        self._header_name = self._header_value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self.parts[-1]
        part.data += data[start:end]
        cap = self.max_file_bytes if part.filename is not None else (
            MAX_STROKES_BYTES if part.name == "strokes" else MAX_FIELD_BYTES)
        if len(part.data) > cap:
            what = "file" if part.filename is not None else "field"
            raise ImageTooLarge(f"{what} {part.name!r} is over the limit of {cap} bytes")


def _upload_from_parts(parts: list[_Part]) -> Upload:
    image: bytes | None = None
    background: bytes | None = None
    strokes: bytes | None = None
    fields: dict[str, str] = {}
    for part in parts:
        if part.filename is not None and part.name in FILE_FIELDS:
            image = bytes(part.data)
        elif part.filename is not None and part.name == "bg":
            background = bytes(part.data)
        elif part.filename is not None and part.name == "strokes":
            strokes = bytes(part.data)
        elif part.filename is not None:
            raise BadRequest(f"unexpected file field {part.name!r}; send the image as 'file' "
                             "(a background image as 'bg', a stroke picture as 'strokes')")
        else:
            fields[part.name] = part.data.decode("utf-8", "replace")
    if image is None:
        raise BadRequest("no image in the form: send it as the file field 'file'")
    return Upload(image=image, fields=fields, background=background, strokes=strokes)
