"""Drive the live camera page in Debian Chromium with a fake camera fed a y4m clip.

Shared by tests/web/test_camera.py and benchmarks/camera.py. Chromium plays the clip (looped,
at the clip's frame rate) as the only camera; the fake UI grants the permission.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


def camera_args(clip: Path) -> list[str]:
    """Chromium flags: the clip is the camera, and the permission prompt says yes."""
    return [*BASE_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}"]


def launch(playwright: Any, clip: Path) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=camera_args(clip))


def open_camera(browser: Any, url: str, **params: str) -> Any:
    """A page on ``url/camera?params`` with every request recorded in ``page.requests``
    as (method, url, body bytes or None); the camera is not started yet."""
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append((r.method, r.url, r.post_data_buffer)))
    page.goto(f"{url}/camera?{urlencode(params)}")
    page.wait_for_selector("body[data-ready]", state="attached")
    return page


def start(page: Any, accept_licence: bool = True, timeout_ms: int = 180_000) -> None:
    """Click Start (and accept a copyleft licence notice), then wait for the first frames."""
    page.click("#cam-start")
    if accept_licence:
        page.wait_for_selector("#cam-licence:not([hidden]), body[data-frames]",
                               state="attached", timeout=timeout_ms)
        if page.is_visible("#cam-licence"):
            page.click("#cam-accept")
    page.wait_for_function("() => window.cameraStats.frames >= 3", timeout=timeout_ms)


def measure_fps(page: Any, seconds: float) -> dict[str, float]:
    """Frames composited per second over ``seconds`` (page clock), and the model's mean ms."""
    return page.evaluate("""async (seconds) => {
        const s = window.cameraStats, f0 = s.frames, t0 = performance.now();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        const dt = (performance.now() - t0) / 1000;
        return {fps: (s.frames - f0) / dt, frames: s.frames - f0, seconds: dt,
                infer_ms: s.inferMs, composite_ms: s.compositeMs, threads: s.threads};
    }""", seconds)


def output_rgb(page: Any) -> np.ndarray:
    """The output canvas now: ``uint8 (H, W, 3)`` RGB."""
    url = page.evaluate("document.getElementById('cam-out').toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def changed_mask(rgb: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    """``bool (H, W)``: pixels that are not the solid background colour (the person kept)."""
    diff = np.abs(rgb.astype(np.int16) - np.array(colour, np.int16)).max(axis=-1)
    return diff > tol


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    union = (pred | truth).sum()
    return float((pred & truth).sum() / union) if union else 1.0
