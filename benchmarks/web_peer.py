"""alphacut's on-device cut-out vs @imgly/background-removal, same ISNet weights, same Chromium.

    PYTHONPATH=src python benchmarks/web_peer.py [--photos 4] [--repeat 3] [--no-12mp]

The peer is npm ``@imgly/background-removal@1.7.0`` (its browser build, ``dist/index.mjs``)
running on ``onnxruntime-web@1.21.0`` (the version it pins as a peer dependency), both fetched
from the npm registry (tarball checked against the registry's integrity hash, each file
against the sha256 pinned below) into ``<alphacut cache>/bench/``. Its data package for 1.7.0
is not on npm (it is served from img.ly's CDN), so its ``resources.json`` is written here: the
model keys point at alphacut's cached ISNet files, which MODELS.md traces to
``@imgly/background-removal-data`` (``isnet_fp16`` = isnet-general, ``isnet_quint8`` =
isnet-general-q), and its runtime keys at the 1.21.0 wasm files. ``publicPath`` is the local
server; no request leaves loopback (checked).

alphacut's side is the exported static site (``alphacut.web.export``) with
``alphacut.mjs``'s ``removeBackground``. Both sites are served by the exported ``serve.py``
(COOP/COEP: cross-origin isolated, both get threads) from one folder, one origin. Each photo
is cut by both, alternately, ``--repeat`` times after one warm-up call (model load and
session creation, reported apart); the time is ``removeBackground(blob)`` to the PNG blob, in
the page. Each peer has a browser of its own, so the CPU time of its process tree per photo is
reported too (on a loaded machine the CPU ratio is the steadier one). Photos: the first
``--photos`` ECSSD images and one 12 MP JPEG (an ECSSD photo upscaled to 4000x3000).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "server"))
from server_helpers import serving  # noqa: E402

ECSSD = ROOT.parent / "shared" / "evaldata" / "ecssd"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update"]

PEER_FILES: dict[tuple[str, str], dict[str, str]] = {
    ("@imgly/background-removal", "1.7.0"): {
        "dist/index.mjs": "1bac0a7afd5d6a32bca8032f5e14f292e9b800fee3f2e9931fe79ee70bd9a7fd",
        "LICENSE.md": "5ffb8eaf206c79f334260d6373dc8deda5235901d14e0c34e9b77e4c82cecb87",
    },
    ("onnxruntime-web", "1.21.0"): {
        "dist/ort.wasm.min.mjs":
            "5118f6b62b123b74a7af80dccd6dc96d3651a39d02b37edfc0d9831982f1f898",
        "dist/ort-wasm-simd-threaded.mjs":
            "e9ba2350c370278fc90108f1514fb9ce6a4051341ab977b5b0dca7eca9e78dfa",
        "dist/ort-wasm-simd-threaded.wasm":
            "06b3f98e5aa2fffec1e3ac57a48bf1073828c6624e14d210750bc596c2e35d65",
    },
}
"""(npm package, version) -> {member under ``package/``: sha256}."""

PAIRS = {"isnet-general": "isnet_fp16", "isnet-general-q": "isnet_quint8"}
"""alphacut model -> the peer's name for the same weights."""

CUT_JS = """
  const toBlob = (b64) => new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))],
                                   { type: "image/jpeg" });
  const toB64 = async (blob) => {
    const buf = new Uint8Array(await blob.arrayBuffer());
    let s = ""; for (let i = 0; i < buf.length; i += 8192)
      s += String.fromCharCode(...buf.subarray(i, i + 8192));
    return btoa(s);
  };
  window.cut = async (b64, model, keep) => {
    const input = toBlob(b64);
    const t0 = performance.now();
    const png = await run(input, model);
    const ms = performance.now() - t0;
    return { ms, bytes: png.size, type: png.type, png: keep ? await toB64(png) : null };
  };
  document.body.dataset.ready = "1";
"""
ALPHACUT_PAGE = ("""<!doctype html><meta charset="utf-8"><title>alphacut bench</title>
<body><script type="module">
  import { removeBackground } from "./alphacut.mjs";
  const run = (blob, model) => removeBackground(blob, { model, acceptLicense: true });
""" + CUT_JS + "</script></body>")
PEER_PAGE = ("""<!doctype html><meta charset="utf-8"><title>imgly bench</title>
<script type="importmap">{"imports": {"onnxruntime-web": "./ort/ort.wasm.min.mjs",
  "onnxruntime-web/webgpu": "./ort/ort.wasm.min.mjs"}}</script>
<body><script type="module">
  import { removeBackground } from "./index.mjs";
  const configs = {};
  const run = (blob, model) => {
    configs[model] = configs[model] || { publicPath: new URL("./", location.href).href,
      model, device: "cpu", output: { format: "image/png" } };
    return removeBackground(blob, configs[model]);
  };
""" + CUT_JS + "</script></body>")


# ---- the peer's files, from the npm registry ------------------------------------------------

def peer_cache() -> Path:
    from alphacut.runtime.weights import cache_dir

    path = cache_dir().parent / "bench" / "web-peer"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_peer() -> dict[str, Path]:
    """``{"<package>/<member>": cached path}``, each verified against its pinned sha256."""
    from alphacut.runtime.weights.cache import sha256_file

    found: dict[str, Path] = {}
    for (package, version), members in PEER_FILES.items():
        folder = peer_cache() / f"{package.replace('/', '+')}-{version}"
        missing = [m for m, sha in members.items()
                   if not (folder / m).is_file() or sha256_file(folder / m) != sha]
        if missing:
            fetch_members(package, version, missing, folder)
        for member in members:
            found[f"{package}/{member}"] = folder / member
    return found


def fetch_members(package: str, version: str, members: list[str], folder: Path) -> None:
    """Stream ``package@version``'s tarball (registry integrity checked), keep ``members``."""
    import tarfile
    import urllib.parse

    from alphacut.runtime.weights.cache import install, sha256_file, temp_file
    from alphacut.runtime.weights.fetch_npm import integrity
    from alphacut.runtime.weights.http import stream
    from alphacut.runtime.weights.registries import npm_registry_url

    base = npm_registry_url(package).rstrip("/")
    doc = io.BytesIO()
    info = stream(f"{base}/{package.replace('/', '%2f')}/{version}", doc,
                  accept="application/json")
    dist = json.loads(doc.getvalue())["dist"]
    algo, expected = integrity(dist)
    if algo is None:
        sys.exit(f"{package}@{version}: the registry gives no integrity hash")
    folder.mkdir(parents=True, exist_ok=True)
    with temp_file(folder, "package", ".tgz") as tgz:
        with open(tgz, "wb") as out:
            got = stream(urllib.parse.urljoin(info.url, dist["tarball"]), out,
                         label=f"{package}@{version}", progress=None, algos=(algo,))
        if got.hashers[algo].digest() != expected:
            sys.exit(f"{package}@{version}: tarball does not match the registry's {algo}")
        with tarfile.open(tgz, "r:gz") as tar:
            for member in members:
                target = folder / member
                target.parent.mkdir(parents=True, exist_ok=True)
                with temp_file(target.parent, target.name) as tmp:
                    src = tar.extractfile(f"package/{member}")
                    assert src is not None
                    tmp.write_bytes(src.read())
                    pinned = PEER_FILES[(package, version)][member]
                    if sha256_file(tmp) != pinned:
                        sys.exit(f"{package}@{version} {member}: sha256 is not the pinned one")
                    install(tmp, target)


# ---- the two sites, one folder ----------------------------------------------------------------

def build_site(site: Path, peer: dict[str, Path]) -> None:
    """alphacut's exported site at ``site/``, the peer at ``site/imgly/``."""
    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights
    from alphacut.web.export import export_site
    from alphacut.web.models import page_spec

    export_site(site, ["u2netp", "isnet-general-q"])
    weights = {name: ensure_weights(get_spec(name)) for name in PAIRS}
    # isnet-general is not a page model (88 MB); the bench adds it beside the others
    spec = get_spec("isnet-general")
    models = site / "web" / "models"
    shutil.copyfile(weights["isnet-general"], models / "isnet-general.onnx")
    (models / "isnet-general.json").write_text(json.dumps(page_spec(spec, "isnet-general.onnx")))
    (site / "bench.html").write_text(ALPHACUT_PAGE, encoding="utf-8")

    imgly = site / "imgly"
    (imgly / "ort").mkdir(parents=True)
    shutil.copyfile(peer["@imgly/background-removal/dist/index.mjs"], imgly / "index.mjs")
    shutil.copyfile(peer["@imgly/background-removal/LICENSE.md"], imgly / "LICENSE.md")
    resources: dict[str, Any] = {}

    def entry(key: str, rel: str, mime: str) -> None:
        size = (imgly / rel).stat().st_size
        resources[key] = {"chunks": [{"name": rel, "offsets": [0, size]}], "size": size,
                          "mime": mime}

    for name in ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
                 "ort-wasm-simd-threaded.wasm"):
        shutil.copyfile(peer[f"onnxruntime-web/dist/{name}"], imgly / "ort" / name)
    entry("/onnxruntime-web/ort-wasm-simd-threaded.wasm", "ort/ort-wasm-simd-threaded.wasm",
          "application/wasm")
    entry("/onnxruntime-web/ort-wasm-simd-threaded.mjs", "ort/ort-wasm-simd-threaded.mjs",
          "text/javascript")
    for ours, theirs in PAIRS.items():
        os.link(models / f"{ours}.onnx", imgly / f"{theirs}.onnx")
        entry(f"/models/{theirs}", f"{theirs}.onnx", "application/octet-stream")
    (imgly / "resources.json").write_text(json.dumps(resources, indent=1))
    (imgly / "bench.html").write_text(PEER_PAGE, encoding="utf-8")


# ---- the run ----------------------------------------------------------------------------------

def open_bench(browser: Any, url: str) -> Any:
    page = browser.new_context().new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append((r.method, r.url)))
    page.goto(url)
    page.wait_for_selector("body[data-ready]", state="attached")
    return page


def cut(page: Any, photo: bytes, model: str, keep: bool = False) -> dict[str, Any]:
    return page.evaluate("([b, m, k]) => window.cut(b, m, k)",
                         [base64.b64encode(photo).decode(), model, keep])


def iou_png(png_b64: str, truth: Path) -> float:
    alpha = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_b64))).getchannel("A")) > 127
    gt = np.asarray(Image.open(truth).convert("L")) > 127
    union = (alpha | gt).sum()
    return float((alpha & gt).sum() / union) if union else 1.0


def photos_for(count: int, twelve_mp: bool, tmp: Path) -> list[tuple[str, bytes, Path | None]]:
    files = sorted((ECSSD / "images").glob("*.jpg"))[:count]
    out: list[tuple[str, bytes, Path | None]] = [
        (p.stem, p.read_bytes(), ECSSD / "masks" / f"{p.stem}.png") for p in files]
    if twelve_mp and files:
        big = Image.open(files[0]).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        big.save(buf, "JPEG", quality=92)
        out.append(("12MP", buf.getvalue(), None))
    return out


def compare(pages: dict[str, Any], roots: dict[str, int | None], model: str,
            photos: list[tuple[str, bytes, Path | None]], repeat: int) -> list[dict[str, Any]]:
    from proc_cpu import tree_cpu

    names = {"alphacut": model, "imgly": PAIRS[model]}
    rows: list[dict[str, Any]] = []
    for stem, data, truth in [("first call (load)", photos[0][1], None), *photos]:
        row: dict[str, Any] = {"photo": stem, "alphacut": [], "imgly": [],
                               "alphacut_cpu": [], "imgly_cpu": []}
        for k in range(1 if stem.startswith("first") else repeat):
            for who, page in pages.items():
                root = roots[who]
                c0 = tree_cpu(root, include_root=True) if root else float("nan")
                got = cut(page, data, names[who], keep=(k == 0 and truth is not None))
                row[who].append(got["ms"])
                row[f"{who}_cpu"].append(
                    (tree_cpu(root, include_root=True) - c0) if root else float("nan"))
                if got["png"]:
                    row[f"{who}_iou"] = iou_png(got["png"], truth)  # type: ignore[arg-type]
        rows.append(row)
    return rows


def print_table(model: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{model} (alphacut) vs {PAIRS[model]} (@imgly/background-removal 1.7.0): "
          "median s per photo, removeBackground -> PNG blob")
    print(f"{'photo':<18}{'alphacut s':>11}{'imgly s':>9}{'speed-up':>9}"
          f"{'ac CPU s':>10}{'imgly CPU s':>12}{'CPU ratio':>10}{'IoU ac':>8}{'IoU imgly':>10}")
    ratios, cpu_ratios = [], []
    for row in rows:
        a, b = statistics.median(row["alphacut"]) / 1000, statistics.median(row["imgly"]) / 1000
        ca, cb = statistics.median(row["alphacut_cpu"]), statistics.median(row["imgly_cpu"])
        if not row["photo"].startswith("first"):
            ratios.append(b / a)
            cpu_ratios.append(cb / ca)
        ious = (f"{row['alphacut_iou']:>8.3f}{row['imgly_iou']:>10.3f}"
                if "alphacut_iou" in row else "")
        print(f"{row['photo']:<18}{a:>11.2f}{b:>9.2f}{b / a:>8.2f}x"
              f"{ca:>10.1f}{cb:>12.1f}{cb / ca:>9.2f}x{ious}")
    if ratios:
        def gmean(xs: list[float]) -> float:
            return float(np.exp(np.mean(np.log(xs))))
        print(f"{'geometric mean':<18}{'':>20}{gmean(ratios):>8.2f}x{'':>22}"
              f"{gmean(cpu_ratios):>9.2f}x   (target >= 2x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default="isnet-general-q,isnet-general")
    parser.add_argument("--no-12mp", action="store_true")
    args = parser.parse_args()
    if not ECSSD.is_dir():
        sys.exit(f"needs {ECSSD}")
    from playwright.sync_api import sync_playwright

    peer = ensure_peer()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        site = Path(tmp) / "site"
        build_site(site, peer)
        photos = photos_for(args.photos, not args.no_12mp, Path(tmp))
        from proc_cpu import descendants, new_browser_root

        with serving(site, "serve.py", probe="/bench.html") as url:
            pages, roots, browsers = {}, {}, []
            for who, path in (("alphacut", "/bench.html"), ("imgly", "/imgly/bench.html")):
                before = descendants(os.getpid())
                browsers.append(pw.chromium.launch(executable_path=CHROMIUM, args=ARGS))
                roots[who] = new_browser_root(before)
                pages[who] = open_bench(browsers[-1], url + path)
            isolated = {w: p.evaluate("crossOriginIsolated") for w, p in pages.items()}
            print(f"cross-origin isolated: {isolated}; {os.cpu_count()} cores, "
                  f"load average {os.getloadavg()[0]:.1f}")
            for model in args.models.split(","):
                print_table(model, compare(pages, roots, model, photos, args.repeat))
            for who, page in pages.items():
                strays = [u for _, u in page.requests
                          if not u.startswith((url + "/", "blob:", "data:"))]
                print(f"{who}: {len(page.requests)} requests, "
                      f"{len(strays)} off loopback {strays[:3]}")
            for browser in browsers:
                browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
