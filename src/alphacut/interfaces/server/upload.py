"""Read a request body into memory under a byte cap: a raw image, or multipart form data.

Nothing touches the disk. Starlette's own ``request.form()`` would put every uploaded file
over 1 MiB into a ``SpooledTemporaryFile`` that rolls over to a real temporary file, so the
multipart body is parsed here instead, streaming, with python-multipart's low-level parser and
plain ``bytearray`` buffers.

A declared ``Content-Length`` over the cap is refused (413) before a single body byte is read;
a chunked body is refused as soon as the running total passes the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from alphacut.errors import BadRequest, ImageTooLarge

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and option fields around the file
MAX_FIELD_BYTES = 4096
MAX_PARTS = 32
FILE_FIELDS = ("file", "image")


@dataclass
class Upload:
    """What a request carried: the image bytes, text fields, and an optional background image."""

    image: bytes
    fields: dict[str, str] = field(default_factory=dict)
    background: bytes | None = None


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


async def read_upload(request: Request, max_bytes: int) -> Upload:
    """The request's image (raw body or multipart ``file``), fields and ``bg`` image."""
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    if kind == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            raise BadRequest("multipart body without a boundary")
        return await _read_multipart(request, boundary, max_bytes)
    # Any other body is the image itself, whatever it is labelled (``curl --data-binary``
    # says application/x-www-form-urlencoded); the decoder decides whether it is one.
    return Upload(image=await read_capped(request, max_bytes))


def check_declared_length(request: Request, limit: int) -> None:
    """413 from the headers alone when ``Content-Length`` is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise BadRequest("invalid Content-Length header")
    if int(declared) > limit:
        raise ImageTooLarge(f"request body is {int(declared)} bytes, over the limit of "
                            f"{limit} bytes")


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than ``max_bytes`` (413) without reading the rest."""
    check_declared_length(request, max_bytes)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise ImageTooLarge(f"request body is over the limit of {max_bytes} bytes")
    except ClientDisconnect:
        raise BadRequest("the client disconnected before sending the whole body") from None
    return bytes(body)


async def _read_multipart(request: Request, boundary: bytes, max_bytes: int) -> Upload:
    limit = max_bytes + MULTIPART_OVERHEAD
    check_declared_length(request, limit)
    collector = _PartCollector(max_bytes)
    parser = MultipartParser(boundary, collector.callbacks())
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise ImageTooLarge(f"request body is over the limit of {limit} bytes")
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise BadRequest(f"malformed multipart body: {exc}") from exc
    except ClientDisconnect:
        raise BadRequest("the client disconnected before sending the whole body") from None
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
        cap = self.max_file_bytes if part.filename is not None else MAX_FIELD_BYTES
        if len(part.data) > cap:
            what = "file" if part.filename is not None else "field"
            raise ImageTooLarge(f"{what} {part.name!r} is over the limit of {cap} bytes")


def _upload_from_parts(parts: list[_Part]) -> Upload:
    image: bytes | None = None
    background: bytes | None = None
    fields: dict[str, str] = {}
    for part in parts:
        if part.filename is not None and part.name in FILE_FIELDS:
            image = bytes(part.data)
        elif part.filename is not None and part.name == "bg":
            background = bytes(part.data)
        elif part.filename is not None:
            raise BadRequest(f"unexpected file field {part.name!r}; send the image as 'file' "
                             "(and a background image as 'bg')")
        else:
            fields[part.name] = part.data.decode("utf-8", "replace")
    if image is None:
        raise BadRequest("no image in the form: send it as the file field 'file'")
    return Upload(image=image, fields=fields, background=background)
