"""Bounded concurrency with a bounded queue, and a per-request timeout.

``Limiter.run(fn)`` admits a request only while ``in_flight + waiting < concurrency + queue``;
beyond that it raises ``Busy`` at once (503 with Retry-After), so an overloaded server answers
quickly instead of piling up requests and memory. An admitted request waits for one of
``concurrency`` slots (an asyncio semaphore), then ``fn`` runs in a small thread pool so the
event loop stays free (ONNX Runtime, OpenCV and numpy release the GIL).

``UploadBudget`` bounds the bytes of every upload being read at once (the queue counts only
requests already read): a request that would take it over the budget is refused with 503.

Timeout: waiting for a slot longer than the timeout is ``Busy`` (503); processing past it is
``RequestTimeout`` (504). A thread cannot be killed, so a timed-out job keeps its slot until it
really finishes: the work in progress never exceeds ``concurrency``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from alphacut.errors import Busy, RequestTimeout

T = TypeVar("T")


def busy(message: str, retry_after: int) -> Busy:
    """A ``Busy`` error carrying the seconds a client should wait (``retry_after``)."""
    error = Busy(message)
    error.retry_after = retry_after  # type: ignore[attr-defined]
    return error


class Limiter:
    """Admission control: ``concurrency`` at work, up to ``queue`` waiting, the rest refused."""

    def __init__(self, concurrency: int, queue: int, timeout: float) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.timeout = timeout
        self.waiting = 0
        self.in_flight = 0
        self._slots = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="alphacut")
        self._mean_seconds = 1.0  # moving average of job time, for Retry-After

    @property
    def capacity(self) -> int:
        return self.concurrency + self.queue

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the queue ahead times the mean job time."""
        ahead = (self.waiting + self.in_flight) / self.concurrency
        return max(1, min(60, math.ceil(ahead * self._mean_seconds)))

    def check_admission(self) -> None:
        """Raise ``Busy`` now if the queue is full (also called before reading an upload)."""
        if self.waiting + self.in_flight >= self.capacity:
            raise busy(f"server busy: {self.in_flight} in progress and {self.waiting} waiting",
                       self.retry_after())

    async def run(self, fn: Callable[..., T], *args: Any) -> tuple[T, float]:
        """Run ``fn(*args)`` in the pool under the limits; return its value and the queue wait
        in seconds. Raises ``Busy`` or ``RequestTimeout``."""
        self.check_admission()
        start = time.perf_counter()
        await self._acquire()
        waited = time.perf_counter() - start
        return await self._execute(fn, args, self.timeout - waited), waited

    async def _acquire(self) -> None:
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout)
        except asyncio.TimeoutError:
            raise busy(f"waited {self.timeout:g} s for a free slot", self.retry_after()) from None
        finally:
            self.waiting -= 1
        self.in_flight += 1

    async def _execute(self, fn: Callable[..., T], args: tuple[Any, ...], budget: float) -> T:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        future = loop.run_in_executor(self._pool, fn, *args)
        future.add_done_callback(lambda f: self._release(f, started))
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(budget, 0.001))
        except asyncio.TimeoutError:
            raise RequestTimeout(f"processing took longer than {self.timeout:g} s") from None

    def _release(self, future: asyncio.Future[Any], started: float) -> None:
        """Free the slot when the job really ends (also after a timeout)."""
        if not future.cancelled():
            future.exception()  # mark retrieved: a timed-out job's error is not lost noise
        seconds = time.perf_counter() - started
        self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * seconds
        self.in_flight -= 1
        self._slots.release()

    def shutdown(self) -> None:
        """Stop the pool; queued jobs that never started are dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class UploadBudget:
    """Bytes of request bodies being read right now, across every connection, under a cap.

    Single-threaded (the event loop): ``take`` and ``give`` need no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, nbytes: int) -> None:
        """Reserve ``nbytes`` or raise ``Busy`` (503 + Retry-After) if the budget is spent."""
        if self.used + nbytes > self.limit:
            error = busy(f"server busy: {self.used} bytes of uploads are being received "
                         f"(budget {self.limit} bytes)", 2)
            error.close_connection = True  # type: ignore[attr-defined]  # drop the rest
            raise error
        self.used += nbytes

    def give(self, nbytes: int) -> None:
        self.used = max(0, self.used - nbytes)
