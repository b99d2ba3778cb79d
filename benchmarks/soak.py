"""Soak benchmark for ``alphacut serve`` under hostile clients (not a unit test).

Starts a real ``alphacut serve`` (u2netp) on a free loopback port and, at the same time:
- ``--clients`` well-behaved clients send ``--requests`` requests in all: mostly
  ``/v1/remove?preset=fast`` on small photos, some ``/v1/mask``, some bad inputs (not an image,
  an unknown option, a boundary over 70 characters, a form without its closing boundary, a
  foreign Host);
- stalled clients keep ``--stalled`` raw sockets open that sent half a header or half a body
  and wait, reopening each one the server cuts off; slow clients drip a header a byte at a time;
- a monitor asks ``/healthz`` every 0.5 s, and the server's RSS and open file descriptors are
  sampled every second (from /proc).

It fails (exit 1) unless every response is a 200, a 4xx, or a 503 with Retry-After, no
well-behaved request died on the wire, and ``/healthz`` always answered within 1 s.

    python benchmarks/soak.py                       # 10,000 requests, 8 clients
    python benchmarks/soak.py --requests 500 --max-seconds 120
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_load import small_images

HALF_HEADER = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stalled: "


@dataclass
class Tally:
    """What the well-behaved clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if problem:
                self.problems.append(problem)


@dataclass
class Watch:
    """What the monitor and the sampler saw."""

    health_worst: float = 0.0
    health_failures: list[str] = field(default_factory=list)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, RSS KiB, fds)
    hostile_opened: int = 0
    hostile_cut: int = 0


def bad_request(client: httpx.Client, image: bytes, rng: random.Random) -> httpx.Response:
    """One of the malformed requests a careless or hostile client sends."""
    kind = rng.randrange(5)
    if kind == 0:
        return client.post("/v1/remove", content=b"not an image at all" * 10)
    if kind == 1:
        return client.post("/v1/remove?no_such_option=1", content=image)
    if kind == 2:
        boundary = "b" * 300
        return client.post("/v1/mask", content=form(boundary, image), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
    if kind == 3:
        return client.post("/v1/mask", content=form("xyz", image)[:-8], headers={
            "Content-Type": "multipart/form-data; boundary=xyz"})
    return client.get("/v1/models", headers={"Host": "rebind.attacker.example"})


def form(boundary: str, image: bytes) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\""
            f"\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()


def judge(response: httpx.Response) -> str | None:
    status = response.status_code
    if status == 200 or 400 <= status < 500:
        return None
    if status == 503 and "Retry-After" in response.headers:
        return None
    return f"{status}: {response.text[:120]}"


def client_loop(url: str, images: list[bytes], tickets: list[int], tally: Tally,
                seed: int, deadline: float) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < deadline:
            with tally.lock:
                if not tickets:
                    return
                tickets.pop()
            image = rng.choice(images)
            roll = rng.random()
            start = time.perf_counter()
            try:
                if roll < 0.10:
                    response = bad_request(client, image, rng)
                elif roll < 0.25:
                    response = client.post("/v1/mask?width=64", content=image)
                else:
                    response = client.post("/v1/remove?preset=fast", content=image)
            except httpx.HTTPError as exc:
                tally.record(0, time.perf_counter() - start, f"transport: {exc!r}")
                continue
            tally.record(response.status_code, time.perf_counter() - start, judge(response))
            if response.status_code == 503:
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 0.5))


def hostile_loop(url: str, count: int, watch: Watch, stop: threading.Event) -> None:
    """Keep ``count`` stalled sockets open (half headers, half bodies, byte drips)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    socks: list[tuple[socket.socket, int]] = []
    body_head = (b"POST /v1/remove HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500000\r\n"
                 b"\r\n" + b"\xff" * 1000)
    while not stop.is_set():
        while len(socks) < count:
            kind = len(socks) % 3
            try:
                sock = socket.create_connection((host, int(port)), timeout=5)
                sock.sendall(HALF_HEADER if kind == 0 else body_head if kind == 1 else b"G")
                sock.setblocking(False)
            except OSError:
                break
            socks.append((sock, kind))
            watch.hostile_opened += 1
        kept = []
        for sock, kind in socks:
            try:
                if kind == 2:
                    sock.send(b"E")  # a drip: one header byte per round
                if sock.recv(65536) == b"":
                    raise ConnectionError
            except BlockingIOError:
                kept.append((sock, kind))
                continue
            except OSError:
                pass
            sock.close()
            watch.hostile_cut += 1
        socks = kept
        stop.wait(0.5)
    for sock, _ in socks:
        sock.close()


def monitor_loop(url: str, pid: int, watch: Watch, stop: threading.Event) -> None:
    last_sample = 0.0
    with httpx.Client(base_url=url, timeout=5) as client:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                ok = client.get("/healthz").status_code == 200
            except httpx.HTTPError as exc:
                ok = False
                watch.health_failures.append(repr(exc))
            took = time.perf_counter() - start
            watch.health_worst = max(watch.health_worst, took)
            if not ok or took > 1.0:
                watch.health_failures.append(f"/healthz took {took:.2f} s (ok={ok})")
            if time.monotonic() - last_sample >= 1.0:
                last_sample = time.monotonic()
                watch.samples.append((last_sample, rss_kib(pid), fds(pid)))
            stop.wait(0.5)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_server(port: int, log: Path, extra: list[str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "alphacut.interfaces.cli", "serve", "--port", str(port),
           "-m", "u2netp", "--models", "u2netp", *extra]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"alphacut serve exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("alphacut serve did not come up")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def report(tally: Tally, watch: Watch, seconds: float, log: Path) -> list[str]:
    lat = sorted(tally.latencies)
    p50 = statistics.median(lat) * 1000 if lat else 0.0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
    first, last = watch.samples[0], watch.samples[-1]
    peak_rss = max(s[1] for s in watch.samples)
    peak_fds = max(s[2] for s in watch.samples)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
    rows = [
        ("requests", f"{sum(tally.statuses.values())} in {seconds:.0f} s "
                     f"({sum(tally.statuses.values()) / seconds:.1f}/s)"),
        ("statuses", statuses),
        ("latency p50 / p99", f"{p50:.0f} ms / {p99:.0f} ms"),
        ("server RSS start / peak / end", f"{first[1] // 1024} / {peak_rss // 1024} / "
                                          f"{last[1] // 1024} MiB"),
        ("server fds start / peak / end", f"{first[2]} / {peak_fds} / {last[2]}"),
        ("/healthz worst", f"{watch.health_worst * 1000:.0f} ms "
                           f"({len(watch.health_failures)} over 1 s or failed)"),
        ("stalled sockets opened / cut off", f"{watch.hostile_opened} / {watch.hostile_cut}"),
        ("server log", f"{log.stat().st_size / 1024:.0f} KiB"),
        ("bad responses", str(len(tally.problems))),
    ]
    width = max(len(k) for k, _ in rows)
    return [f"| {k:<{width}} | {v} |" for k, v in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--stalled", type=int, default=60, help="stalled sockets kept open")
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--side", type=int, default=128, help="long side of the test images")
    parser.add_argument("server_flags", nargs="*", help="extra `alphacut serve` flags")
    args = parser.parse_args(argv)
    images = small_images(args.side)
    log = Path(tempfile.mkdtemp(prefix="alphacut-soak-")) / "server.log"
    proc = start_server(free_port(), log, ["--queue", "8", *args.server_flags])
    url = f"http://127.0.0.1:{proc.args[proc.args.index('--port') + 1]}"  # type: ignore[index]
    tally, watch, stop = Tally(), Watch(), threading.Event()
    side = [threading.Thread(target=hostile_loop, args=(url, args.stalled, watch, stop)),
            threading.Thread(target=monitor_loop, args=(url, proc.pid, watch, stop))]
    try:
        for thread in side:
            thread.start()
        time.sleep(2)
        start = time.monotonic()
        tickets = list(range(args.requests))
        clients = [threading.Thread(target=client_loop, args=(
            url, images, tickets, tally, seed, start + args.max_seconds))
            for seed in range(args.clients)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        seconds = time.monotonic() - start
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in side:
            thread.join(10)
        proc.terminate()
        proc.wait(30)
    print("\n".join(report(tally, watch, seconds, log)))
    failures = tally.problems[:5] + watch.health_failures[:5]
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
