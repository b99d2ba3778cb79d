"""Keep decoding silent: Python warnings are dropped and the C libraries' stderr is captured.

libjpeg inside OpenCV prints its warnings ("Corrupt JPEG data: ...") straight to file
descriptor 2, and other codecs may too, so a Python-level redirect is not enough: inside
``quiet()`` fd 2 points at a private temporary file. The JPEG path reads what was captured to
tell a damaged file from a sound one (``Quiet.since``).

Both the warnings filters and fd 2 are process-wide, so one lock serialises the quiet sections
of concurrent decodes. While a decode runs, anything another thread writes to fd 2 (a server's
log line) lands in the capture file too: when the section ends, every captured line that is not
a codec's message is passed on to the real stderr, so only the codecs' noise is dropped.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_LOCK = threading.RLock()
# What libjpeg, libtiff, libpng, libwebp and libheif print: dropped. Any other line is passed on.
# libtiff prefixes its messages with one identifier ("LZWDecode: ", "TIFFReadDirectory: ") or
# the file name; log lines ("INFO: ...", JSON), alphacut's own messages and tracebacks do not.
CODEC_LINE = re.compile(
    r"^(Corrupt JPEG data|Premature end of JPEG|Invalid (SOS|JPEG)|Not a JPEG|Bogus |"
    r"Unsupported (JPEG|marker)|Inconsistent progression|Huffman|JPEG datastream|Warning: |"
    r"libpng (warning|error)|libwebp|libheif|"
    r"(?!(INFO|WARNING|ERROR|DEBUG|CRITICAL|TRACE|alphacut|uvicorn)\b)"
    r"(?![A-Za-z_.]*(Error|Exception|Warning|Interrupt|Exit)\b)[A-Za-z_][A-Za-z0-9_]*: |"
    r"[^:\s]+\.(tiff?|jpe?g|png|webp|gif|bmp|heic|avif): )")
_capture_fd: int | None = None  # an unlinked temporary file, reused by every section
_depth = 0


class Quiet:
    """Handle on the capture of one quiet section: ``mark()`` then ``since(mark)`` gives the
    text written to fd 2 in between."""

    def mark(self) -> int:
        return _capture_size()

    def since(self, mark: int) -> str:
        """What was written to fd 2 since ``mark`` (decoded leniently)."""
        fd = _capture_fd
        if fd is None:
            return ""
        size = os.fstat(fd).st_size
        if size <= mark:
            return ""
        return os.pread(fd, min(size - mark, 65536), mark).decode("utf-8", "replace")


@contextmanager
def quiet() -> Iterator[Quiet]:
    """Drop every Python warning and capture fd 2 for the duration; reentrant."""
    global _depth
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _depth:
            _depth += 1
            try:
                yield Quiet()
            finally:
                _depth -= 1
            return
        saved = _redirect()
        _depth = 1
        try:
            yield Quiet()
        finally:
            _depth = 0
            _restore(saved)


def _capture_size() -> int:
    return os.fstat(_capture_fd).st_size if _capture_fd is not None else 0


def _redirect() -> int | None:
    """Point fd 2 at the (emptied) capture file; return a duplicate of the old fd 2."""
    global _capture_fd
    try:
        if _capture_fd is None:
            fd, path = tempfile.mkstemp(prefix="alphacut-stderr-")
            os.unlink(path)
            _capture_fd = fd
        os.ftruncate(_capture_fd, 0)
        os.lseek(_capture_fd, 0, os.SEEK_SET)
        _flush_python_stderr()
        saved = os.dup(2)
    except OSError:
        return None  # no fd 2 to redirect (or no temp dir): decode anyway
    os.dup2(_capture_fd, 2)
    return saved


def _restore(saved: int | None) -> None:
    if saved is None:
        return
    _flush_python_stderr()
    os.dup2(saved, 2)
    os.close(saved)
    _pass_on_foreign_lines()


def _pass_on_foreign_lines() -> None:
    """Write the captured lines that no codec printed (other threads' output) to fd 2."""
    fd = _capture_fd
    if fd is None or os.fstat(fd).st_size == 0:
        return
    text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")
    kept = [line for line in text.splitlines(keepends=True) if not CODEC_LINE.match(line)]
    if kept:
        with suppress(OSError):
            os.write(2, "".join(kept).encode("utf-8", "replace"))


def _flush_python_stderr() -> None:
    """Flush Python's own stderr buffer so its text goes where fd 2 pointed when written."""
    for stream in {id(s): s for s in (sys.stderr, sys.__stderr__) if s is not None}.values():
        with suppress(OSError, ValueError, AttributeError):
            stream.flush()
