"""Read a source (path, bytes, binary file object) into bytes, with a label and a byte limit.

No PIL or numpy here: this is plain file reading with typed errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from alphacut.errors import ImageTooLarge, InvalidImage, UnsupportedImage


def read_source(source: object, max_bytes: int | None) -> tuple[bytes, str]:
    """Return the encoded bytes of ``source`` and a label (its file name, or "input")."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source if isinstance(source, bytes) else bytes(source)
        check_bytes(len(data), max_bytes, "input")
        return data, "input"
    if isinstance(source, (str, os.PathLike)):
        return _read_path(Path(source), max_bytes), str(source)
    if hasattr(source, "read"):
        return _read_file_object(source, max_bytes)  # type: ignore[arg-type]
    raise UnsupportedImage(
        f"cannot decode an object of type {type(source).__name__}: pass a path, bytes, "
        "a binary file object, a PIL image or a numpy array"
    )


def check_bytes(size: int, max_bytes: int | None, label: str) -> None:
    """Raise ImageTooLarge when ``size`` exceeds ``max_bytes`` (None: no limit)."""
    if max_bytes is not None and size > max_bytes:
        raise ImageTooLarge(f"{label}: input is larger than the limit of {max_bytes} bytes")


def _read_path(path: Path, max_bytes: int | None) -> bytes:
    """Read a whole file, with typed errors naming the path."""
    try:
        if path.is_dir():
            raise InvalidImage(f"{path}: is a directory, not an image file")
        check_bytes(path.stat().st_size, max_bytes, str(path))
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise InvalidImage(f"no such file: {path}") from e
    except OSError as e:
        raise InvalidImage(f"{path}: cannot read file ({e.strerror or e})") from e
    if not data:
        raise InvalidImage(f"empty input: {path} has zero bytes")
    return data


def _read_file_object(fileobj: BinaryIO, max_bytes: int | None) -> tuple[bytes, str]:
    """Read a binary file object (up to ``max_bytes + 1`` bytes when a limit is given)."""
    name = getattr(fileobj, "name", None)
    label = str(name) if isinstance(name, (str, os.PathLike)) else "input"
    try:
        data = fileobj.read() if max_bytes is None else fileobj.read(max_bytes + 1)
    except OSError as e:
        raise InvalidImage(f"{label}: cannot read file object ({e})") from e
    if isinstance(data, str):
        raise UnsupportedImage(f"{label}: file object is in text mode; open it with 'rb'")
    try:
        data = bytes(data)
    except TypeError as e:
        raise UnsupportedImage(f"{label}: file object's read() returned no bytes") from e
    check_bytes(len(data), max_bytes, label)
    return data, label
