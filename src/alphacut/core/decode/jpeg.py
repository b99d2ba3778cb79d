"""JPEG: OpenCV fast path for colour files, and a damage check from libjpeg's warnings.

libjpeg does not fail on a file whose entropy-coded data stops early: it pads the rest of the
picture with grey and prints a warning ("Corrupt JPEG data: premature end of data segment",
"Premature end of JPEG file"). PIL silences those warnings and pads the same way. Here every
libjpeg run happens inside ``quiet()``, its warnings are read back, and a damaged file raises
``InvalidImage``.

Before a full decode, a file too small for the pixel count its header claims is test-decoded
at 1/8 scale (1/64 of the memory, a fraction of the time), so a 69 KB file claiming 81 MP is
refused without allocating 243 MB. A legitimately tiny file (flat colour) passes the test and
decodes as usual.
"""

from __future__ import annotations

from contextlib import suppress

import numpy as np
from PIL import Image

from alphacut.core.decode.convert import decode_pil, orientation, rgb_profile
from alphacut.core.decode.open import check_pixels, library_errors
from alphacut.core.decode.quiet import Quiet
from alphacut.errors import InvalidImage
from alphacut.types import RGB, Decoded, ImageMeta

# libjpeg warnings that mean pixels are missing or wrong (lower case, matched in a line).
# Not in the list: "extraneous bytes before marker" (junk between segments, the image data is
# whole) and notes on bad ICC or Adobe markers.
_DAMAGE = (
    "premature end",
    "bad huffman code",
    "bad arithmetic code",
    "instead of rst",
)
# Test-decode at 1/8 scale first when the file has fewer bytes than pixels / _SUSPECT_RATIO
# (under 0.25 bit per pixel, where photos take 1-4) and claims at least _SUSPECT_PIXELS.
_SUSPECT_RATIO = 32
_SUSPECT_PIXELS = 2_000_000


def decode_jpeg(im: Image.Image, data: bytes, max_pixels: int, label: str, q: Quiet) -> Decoded:
    """Decode a JPEG opened by PIL (header read): OpenCV for colour files, else PIL.

    Raises InvalidImage when libjpeg reports truncated or corrupt entropy-coded data.
    """
    check_pixels(im.size, max_pixels, label)
    width, height = im.size
    probed = False
    if width * height >= _SUSPECT_PIXELS and len(data) * _SUSPECT_RATIO < width * height:
        probe(data, label, q)
        probed = True
    if im.mode == "RGB":
        fast = _decode_colour(im, data, label, q)
        if fast is not None:
            return fast
    if not probed:
        probe(data, label, q)  # PIL pads damaged data silently: check with libjpeg first
    return decode_pil(im, max_pixels, label)


def probe(data: bytes, label: str, q: Quiet) -> None:
    """Decode ``data`` at 1/8 scale in grey and raise InvalidImage if libjpeg reports damage."""
    import cv2

    flags = cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_IGNORE_ORIENTATION
    mark = q.mark()
    with library_errors(label), suppress(cv2.error):  # unreadable to OpenCV: PIL decides
        cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    raise_if_damaged(q.since(mark), label)


def raise_if_damaged(libjpeg_output: str, label: str) -> None:
    """Raise InvalidImage if libjpeg's printed warnings say the data is truncated or corrupt."""
    for line in libjpeg_output.splitlines():
        low = line.lower()
        if any(sign in low for sign in _DAMAGE):
            raise InvalidImage(f"{label}: corrupt or truncated JPEG data ({line.strip()})")


def _decode_colour(im: Image.Image, data: bytes, label: str, q: Quiet) -> Decoded | None:
    """Decode a colour JPEG's pixels with OpenCV straight into a numpy array; None to fall
    back to PIL.

    PIL has already read the header (size, ICC profile, EXIF). OpenCV's libjpeg-turbo gives
    the same pixels as PIL's (both use the accurate integer IDCT and fancy upsampling) in one
    pass into a writeable array, where PIL's ``load`` + ``np.array`` costs a second, copying
    pass (12 MP: 124 -> 57 ms).
    """
    import cv2

    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    mark = q.mark()
    with library_errors(label):
        try:
            rgb = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
        except cv2.error:
            rgb = None
    raise_if_damaged(q.since(mark), label)
    if rgb is None or rgb.shape != (im.height, im.width, 3) or rgb.dtype != np.uint8:
        return None
    turn = orientation(im)
    with library_errors(label):
        rgb = apply_orientation(rgb, turn)
    height, width = rgb.shape[:2]
    meta = ImageMeta(width=width, height=height, source_format=im.format, source_mode=im.mode,
                     icc_profile=rgb_profile(im.info.get("icc_profile")),
                     exif_rotated=turn != 1, frames=1)
    return Decoded(rgb=rgb, alpha=None, meta=meta)


def apply_orientation(rgb: RGB, turn: int) -> RGB:
    """``uint8 (H, W, 3)`` as displayed for EXIF orientation ``turn`` 1..8 (as
    ``exif_transpose``); C-contiguous."""
    import cv2

    if turn == 1:
        return rgb
    if turn == 2:
        return cv2.flip(rgb, 1)
    if turn == 3:
        return cv2.rotate(rgb, cv2.ROTATE_180)
    if turn == 4:
        return cv2.flip(rgb, 0)
    if turn == 5:
        return cv2.transpose(rgb)
    if turn == 6:
        return cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    if turn == 7:
        return cv2.flip(cv2.transpose(rgb), -1)
    return cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
