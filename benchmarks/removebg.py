"""The remove.bg-compatible endpoint against alphacut's own, side by side, in one server.

Sends the same photo, interleaved, as ``POST /v1/remove`` and as remove.bg's
``POST /v1.0/removebg`` (size=full: the same pixels), then remove.bg's ``size=preview`` and
``size=medium`` on a 12 MP upscale of it, and prints the median wall time and this process's
CPU time per request (server and client share the process; the client's share is small),
with ``/v1/remove`` on the 12 MP photo for what ``size`` saves.
Compare ratios from one run: timings on a shared machine are noisy.

    python benchmarks/removebg.py                      # u2netp, 5 rounds
    python benchmarks/removebg.py --model u2net --rounds 9
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "server"))
SAMPLE = ROOT / "examples" / "sample.jpg"


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def measure(send: Callable[[], httpx.Response]) -> tuple[float, float]:
    """(wall s, process CPU s) of one request, which must succeed."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = send()
    if response.status_code != 200:
        raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from server_helpers import live_server

    from alphacut.interfaces.server.settings import MIB, ServerSettings

    small = SAMPLE.read_bytes()
    photo = Image.open(SAMPLE).convert("RGB")
    side = (12_000_000 / (photo.width * photo.height)) ** 0.5
    big = jpeg(photo.resize((round(photo.width * side), round(photo.height * side)),
                            Image.Resampling.BICUBIC))
    settings = ServerSettings(model=args.model, models=(args.model,), max_pixels=20_000_000,
                              max_upload_bytes=32 * MIB, timeout=600)
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=600) as client:
        cases: dict[str, Callable[[], httpx.Response]] = {
            "/v1/remove (sample, 333x500)": lambda: client.post(
                "/v1/remove", files={"file": ("a.jpg", small)}),
            "/v1.0/removebg size=full (sample)": lambda: client.post(
                "/v1.0/removebg", files={"image_file": ("a.jpg", small)}, data={"size": "full"}),
            "/v1/remove (12 MP upscale)": lambda: client.post(
                "/v1/remove", files={"file": ("b.jpg", big)}),
            "/v1.0/removebg size=preview (12 MP)": lambda: client.post(
                "/v1.0/removebg", files={"image_file": ("b.jpg", big)},
                data={"size": "preview"}),
            "/v1.0/removebg size=medium (12 MP)": lambda: client.post(
                "/v1.0/removebg", files={"image_file": ("b.jpg", big)},
                data={"size": "medium"}),
        }
        for send in cases.values():  # warm-up: sessions, caches
            measure(send)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, send in cases.items():  # interleaved, so load changes hit all alike
                results[name].append(measure(send))
    reference = statistics.median(w for w, _ in results[next(iter(cases))])
    print(f"model {args.model}, {args.rounds} rounds, medians")
    print(f"{'case':40} {'wall s':>8} {'cpu s':>8} {'wall / first':>13}")
    for name, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        print(f"{name:40} {wall:8.2f} {cpu:8.2f} {wall / reference:13.2f}")


if __name__ == "__main__":
    main()
