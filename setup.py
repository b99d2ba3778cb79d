"""Build hook: the optional compiled refine kernels (src/alphacut/core/refine/_*.c).

Everything else is in pyproject.toml. The extension is optional: where no C compiler is
found, the install goes on and the refine step uses its numpy/OpenCV path (same results).
"""

import sys

from setuptools import Extension, setup

# GCC/Clang: POSIX threads for the CG; no fused multiply-add (the numpy path's roundings);
# float compares free to become SIMD min/max (no FP-exception semantics to keep). MSVC's
# defaults already do the last two, and the CG runs on one thread there.
POSIX = sys.platform != "win32"
FLAGS = ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-fvisibility=hidden",
         "-pthread"] if POSIX else []

setup(ext_modules=[Extension(
    "alphacut.core.refine._kernels",
    sources=[f"src/alphacut/core/refine/{name}.c"
             for name in ("_kernels", "_band", "_cg", "_pool")],
    depends=["src/alphacut/core/refine/_kernels.h"],
    extra_compile_args=FLAGS,
    extra_link_args=["-pthread"] if POSIX else [],
    libraries=["m"] if POSIX else [],
    optional=True,
)])
