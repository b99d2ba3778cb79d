"""A PNG writer that uses every core: rows are filtered with numpy and deflated in parallel.

The zlib stream is made the way pigz makes one: each band of rows is compressed on its own
(raw deflate, ending on a byte-aligned sync flush, the last one finished), the pieces are
concatenated behind one zlib header and closed with the Adler-32 of all the data. Any PNG
reader decodes it; the pixels are exactly the input. ``zlib`` releases the GIL while it
compresses, so bands run in threads. Filter: "Up" on every row (one vectorised subtraction);
on photos at level 1 it is as small as PIL's output and several times faster. Level 1 uses
ISA-L's deflate (package ``isal``) when it is installed: about 6x zlib's speed on a 12 MP
cut-out, and 5% smaller.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)
FILTER_UP = 2
MIN_BAND_BYTES = 1 << 20  # below this a band is not worth a thread


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF)


def _filtered(rows: npt.NDArray[np.uint8], previous: npt.NDArray[np.uint8] | None
              ) -> npt.NDArray[np.uint8]:
    """``uint8 (h, stride)`` rows -> ``(h, 1 + stride)``: filter byte "Up", then row - above."""
    h, stride = rows.shape
    out = np.empty((h, stride + 1), dtype=np.uint8)
    out[:, 0] = FILTER_UP
    np.subtract(rows[1:], rows[:-1], out=out[1:, 1:])
    if previous is None:
        out[0, 1:] = rows[0]
    else:
        np.subtract(rows[0], previous, out=out[0, 1:])
    return out


def _deflate_band(rows: npt.NDArray[np.uint8], previous: npt.NDArray[np.uint8] | None,
                  level: int, last: bool) -> tuple[bytes, int, int]:
    """Raw deflate of one band's filtered rows; returns (bytes, adler32 of the data, length)."""
    data = _filtered(rows, previous)
    isal = _isal()
    if isal is not None and level == 1:  # ISA-L's level 1: about 6x zlib's speed, and smaller
        compressor = isal.compressobj(1, isal.DEFLATED, -15)
        mode = isal.Z_FINISH if last else isal.Z_SYNC_FLUSH
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
        mode = zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
    body = compressor.compress(data) + compressor.flush(mode)
    # ISA-L's Adler-32 is the same checksum, about 5x faster (48 MB: 15.6 -> 3.3 ms)
    adler = (isal.adler32 if isal is not None else zlib.adler32)(data)
    return body, adler, data.nbytes


def _isal() -> Any:
    """``isal.isal_zlib`` if the optional ``isal`` package is installed, else None."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


def _adler_combine(a: int, b: int, length_b: int) -> int:
    """Adler-32 of A + B from the Adler-32s of A and B (as zlib's adler32_combine)."""
    base = 65521
    rem = length_b % base
    sum1 = a & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 += (b & 0xFFFF) + base - 1
    sum2 += ((a >> 16) & 0xFFFF) + ((b >> 16) & 0xFFFF) + base - rem
    sum1 %= base
    sum2 %= base
    return (sum2 << 16) | sum1


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def encode_png(pixels: npt.NDArray[np.uint8], *, compress_level: int = 1,
               icc_profile: bytes | None = None, threads: int | None = None) -> bytes:
    """``uint8`` ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` -> PNG bytes (8 bits per sample)."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    height, width = pixels.shape[:2]
    rows = np.ascontiguousarray(pixels).reshape(height, width * channels)
    bands = max(1, min(threads or _threads(), rows.nbytes // MIN_BAND_BYTES))
    edges = [round(i * height / bands) for i in range(bands + 1)]
    jobs = [(rows[edges[i]:edges[i + 1]], rows[edges[i] - 1] if i else None, compress_level,
             i == bands - 1) for i in range(bands)]
    if bands == 1:
        parts = [_deflate_band(*jobs[0])]
    else:
        with ThreadPoolExecutor(bands) as pool:
            parts = list(pool.map(lambda job: _deflate_band(*job), jobs))
    adler = parts[0][1]
    for _, part_adler, length in parts[1:]:
        adler = _adler_combine(adler, part_adler, length)
    level_bits = 0 if compress_level < 2 else (1 if compress_level < 6 else
                                               (2 if compress_level == 6 else 3))
    header = bytes([0x78, level_bits << 6])
    header = header[:1] + bytes([header[1] + (31 - (header[0] * 256 + header[1]) % 31) % 31])
    stream = b"".join([header, *(p[0] for p in parts), struct.pack(">I", adler)])
    out = [SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                  COLOR_TYPES[channels], 0, 0, 0))]
    if icc_profile:
        out.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)))
    out += [_chunk(b"IDAT", stream), _chunk(b"IEND", b"")]
    return b"".join(out)
