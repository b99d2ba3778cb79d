"""``alphacut export-web DIR``: a static site that removes backgrounds with no server at all.

Layout (the same URLs as under ``alphacut serve``, so the page's modules work unchanged)::

    DIR/index.html            the page, on-device mode only
    DIR/alphacut.mjs          ES module: removeBackground(blob, options) -> PNG Blob
    DIR/static/...            the page's modules (static/ondevice/ runs the model)
    DIR/web/status.json       what the page may run (device_only: true)
    DIR/web/ort/...           the pinned ONNX Runtime Web files
    DIR/web/models/NAME.onnx  weights, NAME.json spec, NAME.license.txt licence notice
    DIR/serve.py              stdlib server with the two headers that enable threads
    DIR/README.txt            how to serve it

Every file is written atomically (temp file in the same folder, then rename).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from alphacut.errors import InvalidOption, OutputError
from alphacut.web.runtime import Progress

TEMPLATES = Path(__file__).resolve().parent / "site"


def export_site(dest: Path, models: Iterable[str], *, progress: Progress | None = None,
                offline: bool | None = None) -> list[Path]:
    """Write the site into ``dest`` (created; existing files replaced); the files written."""
    from alphacut.interfaces.server.state import STATIC_DIR
    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights
    from alphacut.web import runtime
    from alphacut.web.models import PAGE_MODELS, is_copyleft, license_notice, page_spec

    names = list(dict.fromkeys(models)) or [PAGE_MODELS[0]]
    for name in names:
        if name not in PAGE_MODELS:
            raise InvalidOption(f"model {name!r} cannot run in the page; choose from: "
                                f"{', '.join(PAGE_MODELS)}")
    specs = [get_spec(n) for n in names]
    ort_files = runtime.ensure_runtime(progress=progress, offline=offline)
    weights = {s.name: ensure_weights(s, progress=progress, offline=offline) for s in specs}
    written: list[Path] = []

    def put(rel: str, data: bytes | str | Path) -> None:
        written.append(_write(dest / rel, data))

    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            put(f"static/{path.relative_to(STATIC_DIR).as_posix()}", path)
    put("index.html", _page(STATIC_DIR / "index.html"))
    for name, path in ort_files.items():
        put(f"web/ort/{name}", path)
    put("web/ort/NOTICE.txt", runtime.ORT_NOTICE + "\n")
    for spec in specs:
        put(f"web/models/{spec.name}.onnx", weights[spec.name])
        put(f"web/models/{spec.name}.json", json.dumps(page_spec(spec, f"{spec.name}.onnx")))
        put(f"web/models/{spec.name}.license.txt", license_notice(spec))
    status = {"device_only": True, "default_model": names[0],
              "runtime": {"package": runtime.ORT_PACKAGE, "version": runtime.ORT_VERSION,
                          "ready": True, "license": runtime.ORT_LICENSE},
              "models": [{"name": s.name, "license": s.license, "size_bytes": s.size_bytes,
                          "copyleft": is_copyleft(s.license), "description": s.description,
                          "ready": True} for s in specs]}
    put("web/status.json", json.dumps(status, indent=1))
    put("alphacut.mjs", 'export { removeBackground } from "./static/ondevice/alphacut.mjs";\n')
    put("serve.py", TEMPLATES / "serve.py")
    put("README.txt", (TEMPLATES / "README.txt").read_text(encoding="utf-8").replace(
        "{models}", ", ".join(f"{s.name} ({s.license})" for s in specs)))
    return written


def _page(index: Path) -> str:
    """The server's page made relative (works under any folder) and without server links."""
    html = index.read_text(encoding="utf-8").replace('"/static/', '"static/')
    start = html.find("<nav>")
    end = html.find("</nav>", start)
    if start != -1 and end != -1:
        html = html[:start] + html[end + len("</nav>"):]
    return html.replace("nothing is stored on the server", "runs entirely in your browser")


def _write(target: Path, data: bytes | str | Path) -> Path:
    """Write ``data`` (bytes, text, or a file to copy) to ``target`` atomically."""
    from alphacut.runtime.weights.cache import temp_file

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with temp_file(target.parent, target.name, ".part") as tmp:
            if isinstance(data, Path):
                shutil.copyfile(data, tmp)
            else:
                tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc}") from exc
    return target
