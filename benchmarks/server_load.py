"""Load benchmark for ``alphacut serve``: requests/s and p50/p95 latency at 1, 4 and 8
concurrent clients, then RSS of the server process before and after a soak.

By default it starts ``alphacut serve`` itself (u2netp, small images) on a free loopback port,
so it can read the server's RSS from /proc; ``--url`` targets a running server instead (no
RSS then). The clients share the machine with the server: on a small box they take some CPU.

    python benchmarks/server_load.py
    python benchmarks/server_load.py --clients 1,2,4 --requests 40 --server-concurrency 2
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PETS = sorted((ROOT / "tests" / "fixtures" / "pets").glob("*.jpg"))


@dataclass
class Outcome:
    """What a batch of requests produced."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    seconds: float = 0.0


def small_images(long_side: int) -> list[bytes]:
    """The pet fixtures scaled to ``long_side`` px, as JPEG bytes."""
    images = []
    for path in PETS:
        image = Image.open(path).convert("RGB")
        scale = long_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)),
                              max(1, round(image.height * scale))))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        images.append(buffer.getvalue())
    return images


def run_load(url: str, path: str, images: list[bytes], clients: int, total: int,
             retry_busy: bool = False) -> Outcome:
    """``total`` requests from ``clients`` threads, each with its own keep-alive client."""
    outcome = Outcome()
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                _one(client, path, images[index % len(images)], outcome, lock, retry_busy)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - start
    return outcome


def _one(client: httpx.Client, path: str, body: bytes, outcome: Outcome, lock: threading.Lock,
         retry_busy: bool) -> None:
    start = time.perf_counter()
    try:
        response = client.post(path, content=body, headers={"Content-Type": "image/jpeg"})
    except httpx.HTTPError:
        with lock:
            outcome.errors += 1
        return
    elapsed = time.perf_counter() - start
    with lock:
        outcome.statuses[response.status_code] += 1
        if response.status_code == 200:
            outcome.latencies.append(elapsed)
    if response.status_code == 503 and retry_busy:
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 2.0))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(args: argparse.Namespace) -> Iterator[tuple[str, int | None]]:
    """Yield (URL, pid or None): the given URL, or a fresh ``alphacut serve``."""
    if args.url:
        yield args.url.rstrip("/"), None
        return
    port = free_port()
    cmd = [sys.executable, "-m", "alphacut.interfaces.cli", "serve", "--port", str(port),
           "-m", args.model, "--models", args.model, "--concurrency",
           str(args.server_concurrency), "--queue", str(args.queue)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"alphacut serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("alphacut serve did not come up")


def report(clients: int, outcome: Outcome) -> None:
    ok = outcome.statuses.get(200, 0)
    busy = outcome.statuses.get(503, 0)
    other = sum(outcome.statuses.values()) - ok - busy + outcome.errors
    print(f"{clients:>7}  {ok + busy + other:>8}  {ok:>5}  {busy:>5}  {other:>6}  "
          f"{ok / outcome.seconds:>7.2f}  {percentile(outcome.latencies, 50) * 1000:>8.0f}  "
          f"{percentile(outcome.latencies, 95) * 1000:>8.0f}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running server (default: start one)")
    p.add_argument("--model", default="u2netp")
    p.add_argument("--endpoint", default="/v1/remove?preset=fast",
                   help="path and query to POST the images to")
    p.add_argument("--size", type=int, default=320, help="long side of the test images")
    p.add_argument("--clients", default="1,4,8", help="comma-separated client counts")
    p.add_argument("--requests", type=int, default=40, help="requests per client count")
    p.add_argument("--warmup", type=int, default=8)
    p.add_argument("--soak", type=int, default=300, help="requests in the RSS soak (8 clients)")
    p.add_argument("--server-concurrency", type=int, default=1)
    p.add_argument("--queue", type=int, default=16)
    p.add_argument("--threads", type=int, help="ONNX Runtime threads per image")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    images = small_images(args.size)
    with server(args) as (url, pid):
        run_load(url, args.endpoint, images, 1, args.warmup)
        print(f"server {url}  model {args.model}  images {args.size}px  "
              f"server concurrency {args.server_concurrency}")
        print("clients  requests     ok    503  errors    req/s  p50 (ms)  p95 (ms)")
        for clients in (int(c) for c in args.clients.split(",")):
            report(clients, run_load(url, args.endpoint, images, clients, args.requests))
        if pid is not None and args.soak:
            before = rss_mib(pid)
            soak = run_load(url, args.endpoint, images, 8, args.soak, retry_busy=True)
            after = rss_mib(pid)
            print(f"soak: {args.soak} requests from 8 clients in {soak.seconds:.1f} s "
                  f"(statuses {dict(soak.statuses)}, errors {soak.errors})")
            print(f"server RSS before {before:.0f} MiB, after {after:.0f} MiB "
                  f"({(after - before) / before * 100:+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
