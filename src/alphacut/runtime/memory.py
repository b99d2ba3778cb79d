"""The C allocator's settings for a long batch: fewer page faults on refine's large arrays.

glibc's malloc serves a block above its mmap threshold (128 KiB at start, raised on the fly up
to 32 MiB as such blocks are freed) with a fresh ``mmap``, and gives the top of the heap back
to the system above its trim threshold; either way the next image's arrays land on pages the
kernel must fault in and zero again. A 1 MP photo's refine allocates tens of such arrays (1 to
10 MB each) per image, and a batch pays the faults image after image. :func:`tune_allocator`
fixes the thresholds (mmap above 32 MiB only, trim above 256 MiB) and keeps one arena, so
freed blocks are reused from image to image.

It is process-wide, so nothing in the library calls it on import: the CLI's batch front door
does (``alphacut remove`` with several inputs); a program of its own may opt in by calling it
once at start-up. The cost is a process that keeps up to 256 MiB of freed heap mapped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache

M_TRIM_THRESHOLD = -1  # glibc's malloc.h parameter numbers
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
SETTINGS = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 256 << 20))


@lru_cache(maxsize=1)
def tune_allocator() -> bool:
    """Apply :data:`SETTINGS` with glibc's ``mallopt`` (once per process); True if applied,
    False where the C library is not glibc (macOS, Windows, musl) or refuses one."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)
