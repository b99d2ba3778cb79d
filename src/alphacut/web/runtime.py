"""ONNX Runtime Web, pinned: fetched once from the npm registry, sha256-checked, cached.

``ensure_runtime()`` is the one entry point: it returns ``{file name: cached path}`` for every
file the page's worker loads (``RUNTIME_FILES``), downloading the package tarball (checked
against the registry's integrity hash) only when some file is missing or damaged. Each file is
then checked against its own pinned sha256 and installed by atomic rename. The files live in
``<alphacut cache>/web/onnxruntime-web-<version>/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from alphacut.errors import OfflineError, WeightsError

Progress = Callable[[str, int, "int | None"], None]

ORT_PACKAGE = "onnxruntime-web"
ORT_VERSION = "1.30.0"
ORT_LICENSE = "MIT"
ORT_NOTICE = (f"{ORT_PACKAGE} {ORT_VERSION} (ONNX Runtime Web), Copyright (c) Microsoft "
              f"Corporation. Licensed under the {ORT_LICENSE} licence.")

RUNTIME_FILES: dict[str, str] = {
    # the wasm build (SIMD, threads when cross-origin isolated)
    "ort.wasm.min.mjs": "219e6a1fc8a9938268d18efca3c91d310bd2f4a59bbd13744df5b2b7fc6cee3b",
    "ort-wasm-simd-threaded.mjs":
        "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
    "ort-wasm-simd-threaded.wasm":
        "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
    # the WebGPU build (its wasm is the asyncify one)
    "ort.webgpu.min.mjs": "3dffff71811bc13a3a3d9591c57ca5ee5735b8f5f3eaf789510b02bb040ae3a0",
    "ort-wasm-simd-threaded.asyncify.mjs":
        "3d1c85995364bb643302fc6fd877a0c3ba5ae72401815e0f24828a53d9191e28",
    "ort-wasm-simd-threaded.asyncify.wasm":
        "39f9f0894d478800487ed9f7dbe92618498db320cf55c8e3d89adff8dce658da",
}
"""File name (in the package's ``dist/``) -> pinned sha256 (hex)."""

WASM_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
"""The files the wasm-only build needs (the exported site can ship only these)."""


def runtime_dir() -> Path:
    """``<alphacut cache>/web/onnxruntime-web-<version>``, created on demand."""
    from alphacut.runtime.weights import cache_dir

    path = cache_dir().parent / "web" / f"{ORT_PACKAGE}-{ORT_VERSION}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsError(f"cannot create the web runtime folder {path}: {exc}") from exc
    return path


def runtime_status() -> dict[str, Path]:
    """The runtime files present and verified right now (never fetches)."""
    from alphacut.runtime.weights.verify import sha256_of

    folder = runtime_dir()
    found: dict[str, Path] = {}
    for name, expected in RUNTIME_FILES.items():
        path = folder / name
        try:
            if path.is_file() and sha256_of(path, _stamp(path)) == expected:
                found[name] = path
        except OSError:
            continue
    return found


def ensure_runtime(*, progress: Progress | None = None, offline: bool | None = None,
                   retries: int = 3) -> dict[str, Path]:
    """``{file name: path}`` of every verified runtime file, fetching the tarball if needed.

    ``offline=None`` follows ``ALPHACUT_OFFLINE``. Raises OfflineError (missing, offline) or
    WeightsError (the registry or the tarball failed).
    """
    found = runtime_status()
    missing = [name for name in RUNTIME_FILES if name not in found]
    if not missing:
        return found
    from alphacut.runtime.weights.ensure import env_flag

    if offline if offline is not None else env_flag("ALPHACUT_OFFLINE"):
        raise OfflineError(
            f"the web runtime ({ORT_PACKAGE} {ORT_VERSION}) is not in the cache and "
            f"ALPHACUT_OFFLINE forbids downloading it (missing: {', '.join(missing)}). Run "
            "`alphacut export-web` or `alphacut serve` once when online.")
    _download(missing, progress, retries)
    return ensure_runtime(offline=True)


def _download(names: list[str], progress: Progress | None, retries: int) -> None:
    """Fetch the package tarball once and install each of ``names`` from it."""
    from alphacut.runtime.weights.cache import sweep_stale_temps, temp_file
    from alphacut.runtime.weights.http import Fail, with_retries

    folder = runtime_dir()
    sweep_stale_temps(folder)
    with temp_file(folder, "package", ".tgz") as tgz:
        try:
            with_retries(lambda: _fetch_tarball(tgz, progress), retries)
            _extract(tgz, names, folder)
        except Fail as exc:
            raise WeightsError(f"could not fetch {ORT_PACKAGE} {ORT_VERSION} from the npm "
                               f"registry: {exc}") from exc


def _fetch_tarball(dest: Path, progress: Progress | None) -> None:
    """Stream the pinned version's tarball to ``dest``, checked against its integrity."""
    from alphacut.runtime.weights.fetch_npm import registry_dist
    from alphacut.runtime.weights.http import Fail, stream

    tarball, algo, expected = registry_dist(ORT_PACKAGE, ORT_VERSION)
    if algo is None:
        raise Fail(f"the registry gives no integrity hash for {ORT_PACKAGE} {ORT_VERSION}")
    with open(dest, "wb") as out:
        got = stream(tarball, out, label=f"{ORT_PACKAGE} {ORT_VERSION}", progress=progress,
                     algos=(algo,))
        out.flush()
        os.fsync(out.fileno())
    if got.hashers[algo].digest() != expected:
        raise Fail(f"the {ORT_PACKAGE} tarball does not match its registry {algo} integrity")


def _extract(tgz: Path, names: list[str], folder: Path) -> None:
    """Stream the tarball once; each wanted ``package/dist/<name>`` is hashed, then installed."""
    import shutil
    import tarfile

    from alphacut.runtime.weights.cache import BLOCK, install, sha256_file, temp_file
    from alphacut.runtime.weights.http import Fail
    from alphacut.runtime.weights.verify import remember

    wanted = {f"package/dist/{name}": name for name in names}
    with tarfile.open(tgz, "r|gz", bufsize=BLOCK) as tar:
        for member in tar:
            name = wanted.get(member.name)
            src = tar.extractfile(member) if name and member.isfile() else None
            if name is None or src is None:
                continue
            target = folder / name
            with temp_file(folder, name) as tmp:
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, BLOCK)
                    out.flush()
                    os.fsync(out.fileno())
                digest = sha256_file(tmp)
                if digest != RUNTIME_FILES[name]:
                    raise Fail(f"{name} in the tarball has sha256 {digest}, pinned "
                               f"{RUNTIME_FILES[name]}")
                install(tmp, target)
            remember(target, digest, _stamp(target))
            del wanted[member.name]
    if wanted:
        raise Fail(f"not in the tarball: {', '.join(sorted(wanted))}")


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")
