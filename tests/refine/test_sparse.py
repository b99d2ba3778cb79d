"""The band solve's CSR product (core/refine/sparse.py): SciPy's compiled routine loaded on its
own gives the same bits as ``scipy.sparse``, and a band is solved without importing
``scipy.sparse`` (0.16 s of a one-photo CLI run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphacut.core.refine import kernels, laplacian, matting, sparse

PET = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "pets").glob("*.jpg"))[0]


@pytest.fixture(scope="module")
def band_system() -> tuple[sparse.CsrMatrix, np.ndarray]:
    """The band system of a real pet photo under a model-like soft mask (an ellipse,
    blurred), and a vector to multiply."""
    rgb = cv2.cvtColor(cv2.imread(str(PET)), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    disc = np.zeros((h, w), np.float32)
    cv2.ellipse(disc, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, 1.0, -1)
    soft = cv2.GaussianBlur(disc, (0, 0), 4.0)
    unknown, known = matting.band_trimap(soft, lo=0.05, hi=0.95, width=1, reach=12)
    image = rgb.astype(np.float32) / 255.0
    stencil = laplacian.band_stencil(image, unknown, 1e-5)
    saved = os.environ.get("ALPHACUT_KERNELS")
    os.environ["ALPHACUT_KERNELS"] = "0"  # the CSR matrix (the compiled kernels keep another)
    kernels.library.cache_clear()
    try:
        system, rhs, _ = laplacian.band_system(stencil, unknown, known, soft, 1e-2)
    finally:
        os.environ.pop("ALPHACUT_KERNELS")
        if saved is not None:
            os.environ["ALPHACUT_KERNELS"] = saved
        kernels.library.cache_clear()
    assert isinstance(system, sparse.CsrMatrix) and system.n > 1000  # a real band
    return system, rhs


def test_the_compiled_product_is_loaded_and_equals_scipy_bit_for_bit(
        band_system: tuple[sparse.CsrMatrix, np.ndarray]) -> None:
    import scipy.sparse as sp

    system, rhs = band_system
    assert sparse.compiled_matvec() is not None, "SciPy's csr_matvec could not be loaded"
    reference = sp.csr_matrix((system.data, system.indices, system.indptr),
                              shape=(system.n, system.n))
    x = rhs * 3.0 + 0.25
    assert np.array_equal(system @ x, reference @ x)
    assert (system @ x).dtype == np.float32


def test_without_the_compiled_routine_scipy_gives_the_same_product(
        band_system: tuple[sparse.CsrMatrix, np.ndarray],
        monkeypatch: pytest.MonkeyPatch) -> None:
    system, rhs = band_system
    direct = system @ rhs
    monkeypatch.setattr(sparse, "compiled_matvec", lambda: None)
    assert np.array_equal(system @ rhs, direct)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_split_product_gives_the_same_bits(
        band_system: tuple[sparse.CsrMatrix, np.ndarray], threads: int) -> None:
    """Rows cut into blocks, one per thread: every row as in the one-call product."""
    system, rhs = band_system
    x = rhs * 3.0 + 0.25
    out = np.full(system.n, np.nan, np.float32)
    with sparse.SplitProduct(system, threads) as product:
        assert len(product.parts) == threads
        assert product(x, out) is out
        assert np.array_equal(out, system @ x)
        assert np.array_equal(product(rhs, out), system @ rhs)  # the buffer is reused


def test_a_band_is_solved_without_importing_scipy_sparse() -> None:
    code = (
        "import sys, cv2, numpy as np\n"
        "from alphacut.core.refine.matting import refine_band\n"
        f"rgb = cv2.cvtColor(cv2.imread({str(PET)!r}), cv2.COLOR_BGR2RGB)\n"
        "h, w = rgb.shape[:2]\n"
        "disc = np.zeros((h, w), np.float32)\n"
        "cv2.ellipse(disc, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, 1.0, -1)\n"
        "alpha = refine_band(rgb, cv2.GaussianBlur(disc, (0, 0), 4.0))\n"
        "assert 0.0 < float(alpha[(alpha > 0) & (alpha < 1)].size)\n"
        "print('scipy.sparse' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
