"""The live camera page (/camera) with Chromium's fake camera fed a DAVIS clip (y4m).

The person must be kept and the background replaced (checked against the DAVIS mask and
against native ONNX Runtime on the same frame), the fps measured, the GPL notice shown before
the weights move, and nothing but same-origin GETs of static assets requested.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from web_fixtures import WEB_MARKS, assert_only_static_gets, linked_home

from helpers import evaldata

pytestmark = WEB_MARKS
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

import camera_driver as cd  # noqa: E402  (after the skip: only browser tests use it)
from y4m import load_frame, load_mask, read_y4m_frame, sequence_clip, still_clip  # noqa: E402

SEQ = "dance-twirl"  # the one DAVIS sequence here with a person
STILL = 60  # a frame where the dancer stands clear of the crowd behind her
GREEN = (0, 255, 0)
MIN_FPS = float(os.environ.get("ALPHACUT_CAMERA_MIN_FPS", "2"))  # target 15 on a quiet machine


@pytest.fixture(scope="module")
def davis() -> Path:
    root = evaldata()
    if root is None or not (root / "davis2016" / SEQ).is_dir():
        pytest.skip("needs ../shared/evaldata/davis2016")
    return root / "davis2016" / SEQ


@pytest.fixture(scope="module")
def camera_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from server_helpers import live_server

    from alphacut.interfaces.server.settings import ServerSettings

    home = linked_home(tmp_path_factory.mktemp("alphacut-home"), ("u2netp", "rvm"))
    settings = ServerSettings(model="u2netp", models=("u2netp", "rvm"), queue=4, preload=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALPHACUT_HOME", str(home))
        mp.setenv("ALPHACUT_OFFLINE", "1")
        with live_server(settings) as url:
            yield url


@pytest.fixture(scope="module")
def clips(davis: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    still_clip(davis / "frames" / f"{STILL:05d}.jpg", folder / "still.y4m")
    sequence_clip(davis, folder / "dance.y4m")
    return {"still": folder / "still.y4m", "dance": folder / "dance.y4m"}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        yield pw


def native_alpha(frame: np.ndarray, detail: int, size: int, steps: int = 12) -> np.ndarray:
    """RVM through the Python ONNX Runtime on ``frame`` repeated, as the page feeds it:
    ``float32 (H, W)`` in [0, 1] at the frame's size."""
    import cv2
    import onnxruntime as ort

    from alphacut.models.registry import get_spec
    from alphacut.runtime.weights import ensure_weights

    session = ort.InferenceSession(str(ensure_weights(get_spec("rvm"))),
                                   providers=["CPUExecutionProvider"])
    h, w = frame.shape[:2]
    scale = min(1.0, size / max(w, h))
    sw, sh = round(w * scale / 2) * 2, round(h * scale / 2) * 2
    src = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
    src = (src.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    ratio = np.array([min(1.0, detail / max(sw, sh))], np.float32)
    state = [np.zeros((1, 1, 1, 1), np.float32)] * 4
    for _ in range(steps):
        out = session.run(None, {"src": src, "r1i": state[0], "r2i": state[1], "r3i": state[2],
                                 "r4i": state[3], "downsample_ratio": ratio})
        state = out[2:]
    return cv2.resize(out[1][0, 0], (w, h), interpolation=cv2.INTER_LINEAR)


def run_still(playwright: Any, clip: Path, url: str, **params: str) -> tuple[np.ndarray, Any]:
    browser = cd.launch(playwright, clip)
    page = cd.open_camera(browser, url, **params)
    cd.start(page)
    page.wait_for_function("() => window.cameraStats.frames >= 12", timeout=120_000)
    return cd.output_rgb(page), browser


@pytest.mark.parametrize(("detail", "floor"), [(128, 0.5), (256, 0.7)])
def test_person_kept_and_background_replaced(playwright, clips, camera_url, davis,
                                             detail, floor) -> None:  # type: ignore[no-untyped-def]
    rgb, browser = run_still(playwright, clips["still"], camera_url, model="rvm",
                             detail=str(detail), input="320", bg="color", color="00ff00")
    browser.close()
    assert rgb.shape == (360, 640, 3)
    kept = cd.changed_mask(rgb, GREEN)
    truth = load_mask(davis / "masks" / f"{STILL:05d}.png")
    score = cd.iou(kept, truth)
    print(f"\ncamera detail {detail}: IoU(changed vs green, DAVIS mask) = {score:.3f}")
    assert score >= floor
    # the page runs the model as native ONNX Runtime does (preprocessing, ratio, state)
    native = native_alpha(load_frame(davis / "frames" / f"{STILL:05d}.jpg"), detail, 320)
    agreement = cd.iou(kept, native > 0.3)
    print(f"camera detail {detail}: IoU(page, native alpha > 0.3) = {agreement:.3f}")
    assert agreement >= 0.9


def test_blur_keeps_the_person_sharp_and_smooths_the_rest(playwright, clips, camera_url,
                                                          davis) -> None:  # type: ignore[no-untyped-def]
    rgb, browser = run_still(playwright, clips["still"], camera_url, model="rvm", detail="256",
                             input="320", bg="blur")
    browser.close()
    frame = read_y4m_frame(clips["still"]).astype(np.float32)
    alpha = native_alpha(load_frame(davis / "frames" / f"{STILL:05d}.jpg"), 256, 320)
    person, background = alpha > 0.95, alpha < 0.02
    out = rgb.astype(np.float32)
    assert np.abs(out - frame)[person].mean() < 10  # the person is the camera's picture

    def detail_energy(img: np.ndarray) -> float:
        grad = np.abs(np.diff(img.mean(axis=-1), axis=1))  # (H, W - 1)
        return float(grad[background[:, 1:]].mean())

    print(f"\nbackground gradient: camera {detail_energy(frame):.2f}, "
          f"page {detail_energy(out):.2f}")
    assert detail_energy(out) < 0.35 * detail_energy(frame)


def test_an_image_of_yours_goes_behind_the_person(playwright, clips, camera_url, davis,
                                                  tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    ramp = np.zeros((360, 640, 3), np.uint8)
    ramp[..., 0] = np.linspace(0, 255, 640, dtype=np.float32).astype(np.uint8)[None, :]
    ramp[..., 2] = 200
    Image.fromarray(ramp).save(tmp_path / "beach.png")
    browser = cd.launch(playwright, clips["still"])
    page = cd.open_camera(browser, camera_url, model="rvm", detail="256", input="320")
    page.set_input_files("#cam-image", str(tmp_path / "beach.png"))
    # the picture is decoded asynchronously; the choice switches to it once it is read
    page.wait_for_function("() => document.getElementById('cam-bg').value === 'image'",
                           timeout=15_000)
    cd.start(page)
    page.wait_for_function("() => window.cameraStats.frames >= 12", timeout=120_000)
    rgb = cd.output_rgb(page).astype(np.float32)
    browser.close()
    alpha = native_alpha(load_frame(davis / "frames" / f"{STILL:05d}.jpg"), 256, 320)
    background = alpha < 0.02
    assert np.abs(rgb - ramp)[background].mean() < 6  # the picked image, not the room
    person = alpha > 0.95
    assert np.abs(rgb - ramp)[person].mean() > 40


def test_fps_and_only_same_origin_gets(playwright, clips, camera_url) -> None:  # type: ignore[no-untyped-def]
    browser = cd.launch(playwright, clips["dance"])
    page = cd.open_camera(browser, camera_url)  # the page's defaults
    page.click("#cam-start")
    page.wait_for_selector("#cam-licence:not([hidden])")
    notice = page.text_content("#cam-licence-text") or ""
    assert "GPL-3.0" in notice and "distribut" in notice
    assert not [u for _, u, _ in page.requests if u.endswith(".onnx")]  # nothing before yes
    page.click("#cam-accept")
    page.wait_for_function("() => window.cameraStats.frames >= 3", timeout=180_000)
    got = cd.measure_fps(page, 6)
    print(f"\ncamera fps (defaults, 640x360 fake camera): {got['fps']:.1f} "
          f"(model {got['infer_ms']:.0f} ms, {got['threads']} wasm threads)")
    assert got["fps"] >= MIN_FPS
    assert page.text_content("#cam-fps").strip().endswith("ms")  # the counter is shown
    assert [u for _, u, _ in page.requests if u.endswith("/web/models/rvm.onnx")]
    assert_only_static_gets(page, camera_url, b"\xff" * 16, metadata=("/camera",))
    sent = [body for _, _, body in page.requests if body]
    assert not sent
    browser.close()


def test_unserved_models_are_not_offered_and_gpl_can_be_declined(
        playwright, clips, camera_url) -> None:  # type: ignore[no-untyped-def]
    browser = cd.launch(playwright, clips["still"])
    page = cd.open_camera(browser, camera_url, model="modnet")  # served: u2netp, rvm
    assert page.is_disabled("#cam-model option[value=modnet]")
    assert "not on this server" in (page.text_content("#cam-model option[value=modnet]") or "")
    assert page.input_value("#cam-model") == "rvm"
    assert page.is_enabled("#cam-start")
    page.click("#cam-start")  # rvm is GPL-3.0: asked first; "Not now" downloads nothing
    page.click("#cam-decline")
    assert "not downloaded" in (page.text_content("#cam-status") or "")
    assert not [u for _, u, _ in page.requests if u.endswith(".onnx")]
    assert page.is_enabled("#cam-start")
    browser.close()


def test_camera_page_is_linked_from_the_main_page(camera_url) -> None:  # type: ignore[no-untyped-def]
    import httpx

    page = httpx.get(camera_url + "/").text
    assert 'href="/camera"' in page
    camera = httpx.get(camera_url + "/camera")
    assert camera.status_code == 200
    assert camera.headers["cross-origin-embedder-policy"] == "require-corp"

