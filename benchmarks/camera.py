"""Live camera benchmark: fps of the /camera page with Chromium's fake camera, beside native
ONNX Runtime on the same frames and settings.

    python benchmarks/camera.py [--seconds 8] [--configs rvm:160:320:1,rvm:160:320:2,...]

A config is model:detail:input:threads (detail: the side the model looks at; input: the long
side of the frame the model is given; threads: the worker's wasm threads). The camera is a
640x360 y4m clip of DAVIS dance-twirl (../shared/evaldata/davis2016) at 30 fps, so 30 is the
most the page can show. For each config: wall fps over the window, the model's mean ms in the
worker, the CPU time of all Chromium processes per frame (capture + model + compositing: the
figure that load on a shared machine does not inflate), and that CPU less what the camera
alone costs (measured after, with the model paused: the fake capture runs at 30 fps whatever
the page does). Native: the same model, input and ratio through the Python ONNX Runtime,
wall and CPU ms per frame.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for sub in ("src", "tests", "tests/server", "tests/web", "benchmarks"):
    sys.path.insert(0, str(ROOT / sub))

DAVIS = ROOT.parent / "shared" / "evaldata" / "davis2016"
SEQ = "dance-twirl"
DEFAULT_CONFIGS = ("rvm:128:320:1,rvm:128:320:2,rvm:160:320:1,rvm:256:320:1,rvm:128:640:1,"
                   "modnet:256:640:1")


def page_run(browser: object, url: str, config: str, seconds: float) -> dict[str, float]:
    import camera_driver as cd
    from proc_cpu import tree_cpu

    model, detail, size, threads = config.split(":")
    page = cd.open_camera(browser, url, model=model, detail=detail, input=size,
                          threads=threads, bg="blur")
    cd.start(page)
    time.sleep(2)  # warm: the first runs of a session are slower
    cpu0 = tree_cpu(os.getpid())
    got = cd.measure_fps(page, seconds)
    cpu = tree_cpu(os.getpid()) - cpu0
    # the camera alone (capture at 30 fps, the video element) with the model paused
    page.evaluate("() => { window.cameraStats.running = false; }")
    time.sleep(1)
    idle0, t0 = tree_cpu(os.getpid()), time.perf_counter()
    time.sleep(seconds / 2)
    idle_rate = (tree_cpu(os.getpid()) - idle0) / (time.perf_counter() - t0)
    page.context.close()
    frames = max(1, got["frames"])
    got["cpu_ms_per_frame"] = 1000 * cpu / frames
    got["own_cpu_ms_per_frame"] = 1000 * max(0.0, cpu - idle_rate * got["seconds"]) / frames
    got["idle_cpu_per_s"] = idle_rate
    return got


def native_run(config: str, frames: list[np.ndarray]) -> dict[str, float]:
    """The same model and sizes through the Python ONNX Runtime, frames in order."""
    import cv2
    import onnxruntime as ort

    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights

    model, detail, size, threads = config.split(":")
    if model != "rvm":
        return {}
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    session = ort.InferenceSession(str(ensure_weights(get_spec("rvm"))), options,
                                   providers=["CPUExecutionProvider"])
    h, w = frames[0].shape[:2]
    scale = min(1.0, int(size) / max(w, h))
    sw, sh = round(w * scale / 2) * 2, round(h * scale / 2) * 2
    ratio = np.array([min(1.0, int(detail) / max(sw, sh))], np.float32)
    state = [np.zeros((1, 1, 1, 1), np.float32)] * 4
    walls, cpus = [], []
    for i, rgb in enumerate(frames):
        small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        src = (small.astype(np.float32) / 255).transpose(2, 0, 1)[None]
        t0, c0 = time.perf_counter(), time.process_time()
        out = session.run(None, {"src": src, "r1i": state[0], "r2i": state[1],
                                 "r3i": state[2], "r4i": state[3], "downsample_ratio": ratio})
        state = out[2:]
        if i >= 3:
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    return {"wall_ms": 1000 * float(np.mean(walls)), "cpu_ms": 1000 * float(np.mean(cpus))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS)
    args = parser.parse_args()
    if not (DAVIS / SEQ).is_dir():
        sys.exit(f"needs {DAVIS / SEQ}")
    import camera_driver as cd
    from playwright.sync_api import sync_playwright
    from server_helpers import live_server
    from y4m import load_frame, sequence_clip

    from alphacut.interfaces.server.settings import ServerSettings

    configs = args.configs.split(",")
    frames = [load_frame(p) for p in sorted((DAVIS / SEQ / "frames").glob("*.jpg"))[:40]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "camera.y4m"
        sequence_clip(DAVIS / SEQ, clip)
        settings = ServerSettings(model="u2netp", models=("u2netp", "rvm", "modnet"))
        with live_server(settings) as url, sync_playwright() as pw:
            browser = cd.launch(pw, clip)
            for config in configs:
                rows.append((config, page_run(browser, url, config, args.seconds),
                             native_run(config, frames)))
            browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("(page model ms and composite ms: wall, in the page, smoothed)")
    print("config (model:detail:input:threads) | page fps | page model ms | composite ms"
          " | page CPU ms/frame"
          " | of it, not the camera | camera alone, CPU s/s | native wall ms | native CPU ms")
    for config, page, native in rows:
        print(f"{config:>20} | {page['fps']:8.1f} | {page['infer_ms']:13.0f} | "
              f"{page['composite_ms']:12.1f} | "
              f"{page['cpu_ms_per_frame']:17.0f} | {page['own_cpu_ms_per_frame']:21.0f} | "
              f"{page['idle_cpu_per_s']:21.2f} | {native.get('wall_ms', float('nan')):14.0f}"
              f" | {native.get('cpu_ms', float('nan')):13.0f}")


if __name__ == "__main__":
    main()
