"""On-device (in-page) model vs native ONNX Runtime, and on-device vs engine quality.

    PYTHONPATH=src python benchmarks/web.py [--photos 10] [--repeat 5] [--no-12mp]

Needs Debian's chromium, playwright (pip), the u2netp weights and the web runtime (fetched
into the cache when missing), and ../shared/evaldata/ecssd for the quality rows. It exports
the static site (alphacut.web.export) into a temp folder and serves it twice on loopback:
with serve.py (COOP/COEP: cross-origin isolated, threads) and with plain
``python -m http.server`` (not isolated: one thread). Prints three tables:

1. u2netp forward pass (320x320): in the page, isolated and not, vs native ONNX Runtime with
   2 threads in this process, same run (median ms; native also CPU ms);
2. 12 MP photo, drop to downloadable PNG in the page (wall s);
3. on 10 ECSSD photos: mean |alpha diff| on-device vs engine fast, and IoU vs ground truth of
   on-device, engine fast and engine balanced.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
from server_helpers import serving  # noqa: E402

PROBE = "/web/status.json"
ECSSD = ROOT.parent / "shared" / "evaldata" / "ecssd"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update"]
BENCH_PAGE = """<!doctype html><meta charset="utf-8"><title>bench</title>
<script type="module">
  import { removeBackground } from "./alphacut.mjs";
  import { DeviceModel } from "./static/ondevice/client.js";
  window.forward = async (repeat) => {
    const model = window.model = window.model || new DeviceModel();  // one worker per page
    const info = await model.load("u2netp");
    const n = 320 * 320 * 3, times = [];
    for (let k = 0; k < repeat + 1; k++) {
      const data = new Float32Array(n).map((_, i) => ((i * 7919) % 255) / 255 - 0.5);
      const out = await model.forward({ data, shape: [1, 3, 320, 320] });
      if (k > 0) times.push(out.ms);  // the first run warms up
    }
    return { info, times };
  };
  window.cut = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const png = await removeBackground(new Blob([bytes]));
    const buf = new Uint8Array(await png.arrayBuffer());
    let s = ""; for (let i = 0; i < buf.length; i += 8192)
      s += String.fromCharCode(...buf.subarray(i, i + 8192));
    return btoa(s);
  };
  document.body.dataset.ready = "1";
</script><body></body>"""


def native_forward(repeat: int) -> tuple[float, float]:
    """Median wall and CPU ms of u2netp with 2 intra-op threads."""
    import onnxruntime as ort

    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(ensure_weights(get_spec("u2netp"))), options,
                                   providers=["CPUExecutionProvider"])
    x = (np.arange(320 * 320 * 3, dtype=np.float32).reshape(1, 3, 320, 320) % 255) / 255 - 0.5
    name = session.get_inputs()[0].name
    session.run(None, {name: x})
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        session.run(None, {name: x})
        walls.append((time.perf_counter() - w0) * 1e3)
        cpus.append((time.process_time() - c0) * 1e3)
    return statistics.median(walls), statistics.median(cpus)


def descendants_cpu_s() -> float:
    """CPU seconds (user + system) of every live process descending from this one (the
    browser's processes: renderer, its workers' threads, GPU process)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    mine, total = {os.getpid()}, 0.0
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                grew = True
    for pid in mine - {os.getpid()}:
        total += stats[pid][1]
    return total


def page_forward(browser: Any, url: str, repeat: int) -> tuple[float, float, dict[str, Any]]:
    """Median wall ms of a forward pass in the page, and browser CPU ms per pass."""
    page = browser.new_page()
    page.goto(url + "/bench.html")
    page.wait_for_selector("body[data-ready]", state="attached")
    page.evaluate("() => window.forward(0)")  # load the model and warm up
    cpu0 = descendants_cpu_s()
    out = page.evaluate("(r) => window.forward(r)", repeat)
    cpu = (descendants_cpu_s() - cpu0) / (repeat + 1) * 1e3
    page.close()
    return statistics.median(out["times"]), cpu, out["info"]


def end_to_end_12mp(browser: Any, url: str, photo: Path) -> tuple[float, float, dict[str, Any]]:
    """Seconds from choosing the file to a downloadable PNG in the page (model cached), the
    browser's CPU seconds meanwhile, and the page's per-stage ms."""
    import json

    big = Image.open(photo).convert("RGB").resize((4000, 3000), Image.BICUBIC)
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as tmp:
        big.save(tmp, "JPEG", quality=92)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    for _ in range(2):  # the first visit downloads the model; the second is the figure
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready]", state="attached")
        start, cpu0 = time.perf_counter(), descendants_cpu_s()
        page.set_input_files("#files", tmp.name)
        page.wait_for_selector(".card[data-status=done] .download:not([hidden])",
                               timeout=300_000)
        wall, cpu = time.perf_counter() - start, descendants_cpu_s() - cpu0
    stages = json.loads(page.get_attribute(".card", "data-timings") or "{}")
    context.close()
    Path(tmp.name).unlink()
    return wall, cpu, stages


def quality(browser: Any, url: str, photos: list[Path]) -> list[tuple[Any, ...]]:
    from alphacut.api import Remover

    fast = Remover(model="u2netp", preset="fast")
    balanced = Remover(model="u2netp", preset="balanced")
    page = browser.new_page()
    page.goto(url + "/bench.html")
    page.wait_for_selector("body[data-ready]", state="attached")
    rows = []
    for photo in photos:
        b64 = page.evaluate("(b) => window.cut(b)", base64.b64encode(photo.read_bytes()).decode())
        png = Image.open(io.BytesIO(base64.b64decode(b64)))
        mine = np.asarray(png.getchannel("A"), dtype=np.float32) / 255
        engine_fast = fast.remove(photo).alpha
        engine_bal = balanced.remove(photo).alpha
        truth = np.asarray(Image.open(ECSSD / "masks" / f"{photo.stem}.png").convert("L")) > 127
        rows.append((photo.stem, float(np.abs(mine - engine_fast).mean()) * 255,
                     float(np.abs(mine - engine_bal).mean()) * 255,
                     iou(mine, truth), iou(engine_fast, truth), iou(engine_bal, truth)))
    page.close()
    return rows


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    pred = alpha > 0.5
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-12mp", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from alphacut.web.export import export_site

    photos = sorted((ECSSD / "images").glob("*.jpg"))[: args.photos] if ECSSD.is_dir() else []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        site = Path(tmp) / "site"
        export_site(site, ["u2netp"])
        (site / "bench.html").write_text(BENCH_PAGE, encoding="utf-8")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        with serving(site, "serve.py", probe=PROBE) as iso, \
                serving(site, "-m", "http.server", probe=PROBE) as plain:
            native_ms, native_cpu = native_forward(args.repeat)
            iso_ms, iso_cpu, iso_info = page_forward(browser, iso, args.repeat)
            plain_ms, plain_cpu, plain_info = page_forward(browser, plain, args.repeat)
            native_ms2, native_cpu2 = native_forward(args.repeat)  # before and after
            print("\n1. u2netp forward pass, 320x320 (median of", args.repeat, "runs)")
            print(f"{'where':<44}{'wall ms':>9}{'x native':>10}{'CPU ms':>9}{'x native':>10}")
            native = min(native_ms, native_ms2)
            ncpu = min(native_cpu, native_cpu2)
            print(f"{'native ONNX Runtime, 2 threads':<44}{native:>9.0f}{1:>10.2f}"
                  f"{ncpu:>9.0f}{1:>10.2f}")
            for label, ms, cpu, info in (
                    (f"in page, isolated, {iso_info['threads']} threads", iso_ms, iso_cpu,
                     iso_info),
                    (f"in page, not isolated, {plain_info['threads']} thread", plain_ms,
                     plain_cpu, plain_info)):
                print(f"{label + ' (' + info['backend'] + ')':<44}{ms:>9.0f}"
                      f"{ms / native:>10.2f}{cpu:>9.0f}{cpu / ncpu:>10.2f}")
            if not args.no_12mp and photos:
                secs, cpu, stages = end_to_end_12mp(browser, iso, photos[0])
                print("\n2. 12 MP (4000x3000 JPEG) drop -> downloadable PNG, u2netp, in page, "
                      "isolated, model cached")
                print(f"   wall {secs:.2f} s (target <= 3 s); browser CPU {cpu:.2f} s; "
                      "stages (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()))
            if photos:
                rows = quality(browser, plain, photos)
                print(f"\n3. quality on {len(rows)} ECSSD photos, u2netp (|da| in /255)")
                print(f"{'photo':<8}{'|da| fast':>10}{'|da| bal':>10}{'IoU dev':>9}"
                      f"{'IoU fast':>9}{'IoU bal':>9}")
                for row in rows:
                    print(f"{row[0]:<8}{row[1]:>10.3f}{row[2]:>10.3f}{row[3]:>9.4f}"
                          f"{row[4]:>9.4f}{row[5]:>9.4f}")
                mean = [statistics.fmean(r[k] for r in rows) for k in range(1, 6)]
                print(f"{'mean':<8}{mean[0]:>10.3f}{mean[1]:>10.3f}{mean[2]:>9.4f}"
                      f"{mean[3]:>9.4f}{mean[4]:>9.4f}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
