"""The band solve's sparse matrix: CSR arrays and their product with a vector.

``import scipy.sparse`` costs about 0.16 s of CPU in a fresh process (scipy 1.17: its array-API
layer pulls in numpy.testing and numpy.f2py), more than the whole band solve of a 1 MP photo,
and a one-photo CLI run pays it every time. The solve needs one routine only: SciPy's compiled
CSR matrix-vector product (``csr_matvec`` of ``scipy/sparse/_sparsetools``). That extension
module needs nothing of ``scipy.sparse``'s Python side, so it is loaded on its own (under 1 ms);
if that ever fails (another SciPy layout), ``scipy.sparse.csr_matrix`` does the same product.
Both give the same bits: it is the same compiled loop.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
Matvec = Callable[[int, int, I32, I32, F32, F32, F32], None]


@dataclass(frozen=True)
class CsrMatrix:
    """A square CSR matrix ``n x n``: ``indptr`` ``int32 (n + 1,)``, ``indices`` ``int32
    (nnz,)``, ``data`` ``float32 (nnz,)`` (a row may hold explicit zeros, also on a column
    it already has: the product adds them as they are)."""

    indptr: I32
    indices: I32
    data: F32
    n: int
    row_width: int = 0  # every row holds exactly this many entries (the band's 25), or 0

    def __matmul__(self, x: F32) -> F32:
        """``A x`` for ``x`` ``float32 (n,)``: a new ``float32 (n,)``."""
        return self.product(x, np.empty(self.n, np.float32))

    def product(self, x: F32, out: F32) -> F32:
        """``A x`` written into ``out`` (``float32 (n,)``, not ``x``; reused from step to
        step, no fresh allocation) and returned."""
        matvec = compiled_matvec()
        if matvec is None:
            out[:] = _scipy_matrix(self) @ x  # type: ignore[operator]
            return out
        out.fill(0.0)  # csr_matvec adds into its output
        matvec(self.n, self.n, self.indptr, self.indices, self.data,
               np.ascontiguousarray(x, np.float32), out)
        return out


class SplitProduct:
    """``A x`` on several threads: the rows cut into contiguous blocks of about equal
    entries, each block's product one ``csr_matvec`` call (which releases the GIL) into its own
    part of the output. Every row is computed as in the one-call product, so the result is
    the same to the bit; a 12 MP photo's band (41 k rows, 1 M entries) takes 0.5 instead of
    0.8 ms per product on two cores. Use as a context manager (it owns a pool)."""

    def __init__(self, a: CsrMatrix, threads: int) -> None:
        self.a = a
        self.parts = _csr_parts(a, threads)
        self.pool = ThreadPoolExecutor(len(self.parts) - 1) if len(self.parts) > 1 else None

    def __enter__(self) -> SplitProduct:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def __call__(self, x: F32, out: F32) -> F32:
        """``A x`` written into ``out`` (``float32 (n,)``, not ``x``) and returned."""
        x = np.ascontiguousarray(x, np.float32)
        if self.pool is None:
            self.parts[0](x, out)
            return out
        futures = [self.pool.submit(part, x, out) for part in self.parts[1:]]
        self.parts[0](x, out)
        for future in futures:
            future.result()
        return out


Part = Callable[[F32, F32], None]


def _blocks(weights: I32, n: int, threads: int) -> list[tuple[int, int]]:
    """Row ranges ``[r0, r1)`` of about equal weight (``weights``: the cumulative entries
    per row, ``int (n + 1,)``), at most ``threads`` of them, none empty."""
    cuts = np.searchsorted(weights, np.linspace(0, weights[-1], threads + 1)[1:-1])
    bounds = [0, *sorted({int(c) for c in cuts} - {0, n}), n]
    return list(itertools.pairwise(bounds))


def _csr_parts(a: CsrMatrix, threads: int) -> list[Part]:
    """One product per block of rows of ``a`` (the whole product where SciPy's routine is
    not loaded): each block's own rebased CSR arrays."""
    matvec = compiled_matvec()
    if matvec is None or threads <= 1:
        def whole(x: F32, out: F32) -> None:
            a.product(x, out)

        return [whole]
    parts: list[Part] = []
    for r0, r1 in _blocks(a.indptr, a.n, threads):
        start, stop = int(a.indptr[r0]), int(a.indptr[r1])
        indptr = (a.indptr[r0:r1 + 1] - start).astype(np.int32)
        indices, data = a.indices[start:stop], a.data[start:stop]

        def part(x: F32, out: F32, r0: int = r0, r1: int = r1, indptr: I32 = indptr,
                 indices: I32 = indices, data: F32 = data) -> None:
            block = out[r0:r1]
            block.fill(0.0)  # csr_matvec adds into its output
            matvec(r1 - r0, a.n, indptr, indices, data, x, block)

        parts.append(part)
    return parts


@lru_cache(maxsize=1)
def compiled_matvec() -> Matvec | None:
    """SciPy's ``csr_matvec`` (``y += A x``), loaded without ``scipy.sparse``; None if the
    extension is not where this SciPy keeps it."""
    try:
        spec = importlib.util.find_spec("scipy")
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / "sparse"
        name = "scipy.sparse._sparsetools"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"_sparsetools{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader(name, str(path))
                module_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
                if module_spec is None:
                    return None
                module = importlib.util.module_from_spec(module_spec)
                loader.exec_module(module)
                return module.csr_matvec  # type: ignore[no-any-return]
    except (ImportError, OSError, AttributeError):
        return None
    return None


def _scipy_matrix(a: CsrMatrix) -> object:
    """The same matrix as ``scipy.sparse.csr_matrix`` (the fallback)."""
    import scipy.sparse as sp

    return sp.csr_matrix((a.data, a.indices, a.indptr), shape=(a.n, a.n))
