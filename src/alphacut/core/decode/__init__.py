"""Decode stage: turn any supported input into a ``Decoded`` image.

Input: a path, bytes, a binary file object, a ``PIL.Image.Image`` or a numpy array.
Output: ``rgb`` ``uint8 (H, W, 3)`` C-contiguous and writeable; ``alpha`` ``float32 (H, W)`` in
[0, 1], or ``None`` when the image has no alpha or its alpha is fully opaque; ``ImageMeta``.

EXIF orientation is applied, so ``(H, W)`` is the size a viewer shows. Only the first frame of an
animation is decoded. Every failure is a typed error from ``alphacut.errors`` naming the input;
no PIL, OpenCV, pillow-heif, numpy or OS error escapes, and nothing is printed: Python warnings
and what the C codecs write to stderr are swallowed (see ``quiet``).

Limits: the pixel count is checked after the header is read and before any pixel data is
decoded; a JPEG far smaller than its claimed size is test-decoded at 1/8 scale first (see
``jpeg``). PIL's own process-wide ``Image.MAX_IMAGE_PIXELS`` guard is left as it is (it is
global state): its warning is silenced inside a call, and its error becomes ``ImageTooLarge``.
So a ``max_pixels`` above twice PIL's limit (about 179 MP by default) also needs PIL's limit
raised. ``ImageFile.LOAD_TRUNCATED_IMAGES`` is not touched either: with PIL's default
(``False``) a truncated file raises ``InvalidImage``.

Modules: ``read`` (source -> bytes), ``sniff`` (magic bytes, PNG CRCs, HEIF plugin), ``open``
(PIL open, pixel limit, error mapping), ``jpeg`` (OpenCV fast path, damage check), ``convert``
(modes -> RGB + alpha, orientation, ICC), ``arrays`` (numpy input), ``quiet`` (silence).
"""

from __future__ import annotations

import os
from typing import BinaryIO, Union

import numpy as np
from PIL import Image

from alphacut.core.decode.arrays import decode_array
from alphacut.core.decode.convert import decode_pil
from alphacut.core.decode.jpeg import decode_jpeg
from alphacut.core.decode.open import library_errors, open_image
from alphacut.core.decode.quiet import quiet
from alphacut.core.decode.read import read_source
from alphacut.core.decode.sniff import check_png_crcs
from alphacut.formats import DEFAULT_MAX_PIXELS
from alphacut.types import Decoded

__all__ = ["Source", "decode"]

Source = Union[
    str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, Image.Image, np.ndarray
]


def decode(
    source: Source,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int | None = None,
) -> Decoded:
    """Decode ``source`` into RGB ``uint8 (H, W, 3)``, alpha ``float32 (H, W)`` or None, meta.

    ``max_pixels`` bounds ``W * H`` (checked before pixel data is decoded); ``max_bytes`` bounds
    the size of a path's file, a byte string or what a file object yields. Both raise
    ``ImageTooLarge``. Numpy arrays may be ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)``
    RGBA, of dtype ``uint8``, ``uint16`` or float in [0, 1].
    """
    if isinstance(source, np.ndarray):
        return decode_array(source, max_pixels)
    if isinstance(source, Image.Image):
        with quiet():
            return decode_pil(source, max_pixels, "image")
    data, label = read_source(source, max_bytes)
    with quiet() as q:
        im = open_image(data, label)
        with library_errors(label), im:
            if im.format == "PNG":
                check_png_crcs(data, label)
            if im.format == "JPEG":
                return decode_jpeg(im, data, max_pixels, label, q)
            return decode_pil(im, max_pixels, label)
