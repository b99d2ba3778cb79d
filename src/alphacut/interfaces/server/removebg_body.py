"""Read a remove.bg-style request body into (text fields, files), in memory, under caps.

remove.bg takes ``multipart/form-data`` (``image_file`` / ``bg_image_file`` as file parts),
``application/x-www-form-urlencoded`` and ``application/json`` bodies; query parameters are
read too (body wins). Caps: a file part at most the server's upload limit, ``image_file_b64``
at most the base64 size of that, every other field 4 KiB; the whole body is read with the
server's body deadline and upload budget (``upload.stream_body``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from alphacut.errors import BadRequest, ImageTooLarge
from alphacut.interfaces.server.upload import (
    BOUNDARY,
    MAX_FIELD_BYTES,
    MAX_PARTS,
    MULTIPART_OVERHEAD,
    BodyLimits,
    read_capped,
    stream_body,
)

FILE_PARTS = ("image_file", "bg_image_file")
BASE64_PARTS = ("image_file_b64",)
Fields = dict[str, str]
Files = dict[str, bytes]


def base64_cap(max_bytes: int) -> int:
    """Characters of base64 (with some slack for line breaks or a data: prefix) for
    ``max_bytes`` of image."""
    return (max_bytes + 2) // 3 * 4 + max_bytes // 38 + 256


async def read_fields(request: Request, limits: BodyLimits) -> tuple[Fields, Files]:
    """(text fields, file parts) of a multipart, urlencoded or JSON body plus the query."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    fields: Fields = dict(request.query_params)
    files: Files = {}
    if kind == b"multipart/form-data":
        body_fields, files = await _read_multipart(request, params.get(b"boundary"), limits)
    else:
        text_limits = dataclasses.replace(
            limits, max_bytes=base64_cap(limits.max_bytes) + MULTIPART_OVERHEAD)
        body = await read_capped(request, text_limits)
        body_fields = _json_fields(body) if kind == b"application/json" else _form_fields(body)
    fields.update(body_fields)
    return fields, files


def _form_fields(body: bytes) -> Fields:
    """``a=1&b=2`` (an empty body: no fields)."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=MAX_PARTS))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"malformed form body: {exc}") from None


def _json_fields(body: bytes) -> Fields:
    """A JSON object of strings, numbers and booleans -> text fields (booleans as true/false)."""
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from None
    if not isinstance(data, dict) or len(data) > MAX_PARTS:
        raise BadRequest(f"the JSON body must be an object of at most {MAX_PARTS} fields")
    return {str(k): _text(k, v) for k, v in data.items() if v is not None}


def _text(name: Any, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise BadRequest(f"field {name!r} must be a string, number or boolean")


async def _read_multipart(request: Request, boundary: bytes | None,
                          limits: BodyLimits) -> tuple[Fields, Files]:
    if not boundary or not BOUNDARY.fullmatch(boundary):
        raise BadRequest("multipart body without a valid boundary (RFC 2046)")
    collector = _Parts(limits.max_bytes)
    total = 2 * limits.max_bytes + MULTIPART_OVERHEAD  # an image and a background image
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        await stream_body(request, total, parser.write, limits)
        parser.finalize()
    except FormParserError as exc:
        raise BadRequest(f"malformed multipart body: {exc}") from exc
    if parser.state != MultipartState.END:
        raise BadRequest("malformed multipart body: it ends before its closing boundary")
    return collector.result()


class _Parts:
    """python-multipart callbacks gathering named parts, each under its own cap."""

    def __init__(self, max_file_bytes: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.parts: list[tuple[str, bool, bytearray]] = []
        self._name = b""
        self._value = b""

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_part_data": self._data}

    def result(self) -> tuple[Fields, Files]:
        fields: Fields = {}
        files: Files = {}
        for name, is_file, data in self.parts:
            if name in FILE_PARTS:
                files[name] = bytes(data)
            elif is_file:
                raise BadRequest(f"unexpected file field {name!r}; files go in image_file or "
                                 "bg_image_file")
            else:
                fields[name] = data.decode("utf-8", "replace")
        return fields, files

    def _begin(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise BadRequest(f"too many multipart parts (limit {MAX_PARTS})")
        self.parts.append(("", False, bytearray()))

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._name.lower() == b"content-disposition":
            _, options = parse_options_header(self._value)
            name = options.get(b"name", b"").decode("utf-8", "replace")
            self.parts[-1] = (name, b"filename" in options, self.parts[-1][2])
        self._name = self._value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        name, _, buffer = self.parts[-1]
        buffer += data[start:end]
        if len(buffer) > self._cap(name):
            raise ImageTooLarge(f"field {name!r} is over the limit of {self._cap(name)} bytes")

    def _cap(self, name: str) -> int:
        if name in FILE_PARTS:
            return self.max_file_bytes
        if name in BASE64_PARTS:
            return base64_cap(self.max_file_bytes)
        return MAX_FIELD_BYTES
