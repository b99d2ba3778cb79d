"""Prometheus metrics for one app, in its own ``CollectorRegistry`` (never the global one), so
several apps in one process (tests, embedding) do not collide.

- ``alphacut_http_requests_total{route,method,status}``: requests by route template and status.
- ``alphacut_http_request_duration_seconds{route}``: latency histogram.
- ``alphacut_stage_seconds{stage}``: time per pipeline stage (decode, infer, refine...).
- ``alphacut_queue_depth`` / ``alphacut_in_flight``: requests waiting / being processed.
- ``alphacut_models_loaded`` and ``alphacut_model_loaded{model}``: models with a live session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class _StateCollector(Collector):
    """Gauges read at scrape time, so they can never drift from the truth."""

    def __init__(self, queue: Callable[[], tuple[int, int]],
                 models: Callable[[], Iterable[str]]) -> None:
        self._queue = queue
        self._models = models

    def collect(self) -> Iterator[Metric]:
        waiting, in_flight = self._queue()
        yield GaugeMetricFamily("alphacut_queue_depth", "Requests waiting for a slot",
                                value=waiting)
        yield GaugeMetricFamily("alphacut_in_flight", "Requests being processed",
                                value=in_flight)
        names = sorted(self._models())
        yield GaugeMetricFamily("alphacut_models_loaded", "Models with a live session",
                                value=len(names))
        per_model = GaugeMetricFamily("alphacut_model_loaded", "1 if the model is loaded",
                                      labels=["model"])
        for name in names:
            per_model.add_metric([name], 1)
        yield per_model


class Metrics:
    """The app's counters and histograms, and the Prometheus text rendering."""

    def __init__(self, queue: Callable[[], tuple[int, int]],
                 models: Callable[[], Iterable[str]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("alphacut_http_requests", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("alphacut_http_request_duration_seconds",
                                 "HTTP request latency", ["route"], buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        self.stages = Histogram("alphacut_stage_seconds", "Pipeline stage wall time",
                                ["stage"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_StateCollector(queue, models))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def observe_stages(self, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            self.stages.labels(stage=stage).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware counting every HTTP response by route template and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.observe_request(_route_label(scope), scope.get("method", ""), status,
                                         time.perf_counter() - start)


def _route_label(scope: Scope) -> str:
    """The matched route's path template (bounded label values), else "unmatched"."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
