"""Sustained overload against ``alphacut serve`` in a child process: 8 clients, 300 requests.

The server runs one image at a time with a queue of 3, so 8 eager clients overflow it on
purpose: every answer must be a 200 or a deliberate 503 Busy with Retry-After (no other
status, no dropped connection), and the server's RSS after warm-up must stay within 10%.
Clients back off for min(Retry-After, 1 s) so the run stays short on a small machine.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from server_helpers import resized, rss_kib, serve_subprocess

from helpers import PETS

pytestmark = [pytest.mark.slow, pytest.mark.model]

CLIENTS = 8
REQUESTS = 300
WARMUP = 24


class Tally:
    """Statuses seen by the clients, and anything that was not a 200 or a proper 503."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []
        self.lock = threading.Lock()


def hammer(url: str, images: list[bytes], total: int) -> Tally:
    tally = Tally()
    tickets = iter(range(total))

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                with tally.lock:
                    ticket = next(tickets, None)
                if ticket is None:
                    return
                one_request(http, images[ticket % len(images)], tally)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def one_request(http: httpx.Client, body: bytes, tally: Tally) -> None:
    try:
        response = http.post("/v1/remove?preset=fast", content=body,
                             headers={"Content-Type": "image/jpeg"})
    except httpx.HTTPError as exc:
        with tally.lock:
            tally.problems.append(f"transport error: {exc!r}")
        return
    with tally.lock:
        tally.statuses[response.status_code] += 1
        problem = check(response)
        if problem:
            tally.problems.append(problem)
    if response.status_code == 503:
        time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))


def check(response: httpx.Response) -> str | None:
    if response.status_code == 200:
        return None if response.content.startswith(b"\x89PNG") else "200 without a PNG"
    if response.status_code == 503:
        ok = response.json().get("error") == "busy" and "Retry-After" in response.headers
        return None if ok else f"503 without busy/Retry-After: {response.text}"
    return f"unexpected {response.status_code}: {response.text[:200]}"


def served(url: str, status: int) -> float:
    text = httpx.get(f"{url}/metrics").text
    line = f'alphacut_http_requests_total{{method="POST",route="/v1/remove",status="{status}"}}'
    return sum(float(row.split()[-1]) for row in text.splitlines() if row.startswith(line))


def test_sustained_overload_only_deliberate_503s_and_steady_memory() -> None:
    images = [resized(path, 320, "JPEG") for path in PETS]
    with serve_subprocess("-m", "u2netp", "--models", "u2netp", "--concurrency", "1",
                          "--queue", "3") as (url, proc):
        warm = hammer(url, images, WARMUP)
        assert warm.statuses[200] > 0 and not warm.problems
        before = rss_kib(proc.pid)
        tally = hammer(url, images, REQUESTS)
        after = rss_kib(proc.pid)
        assert not tally.problems, tally.problems[:5]
        assert sum(tally.statuses.values()) == REQUESTS
        assert tally.statuses[200] >= 20 and tally.statuses[503] > 0
        assert served(url, 200) == warm.statuses[200] + tally.statuses[200]
        assert served(url, 503) == warm.statuses[503] + tally.statuses[503]
    growth = (after - before) / before
    print(f"statuses {dict(tally.statuses)}; RSS {before // 1024} -> {after // 1024} MiB "
          f"({growth:+.1%})")
    assert growth < 0.10
