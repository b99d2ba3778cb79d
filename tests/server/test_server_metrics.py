"""GET /metrics: Prometheus text with requests by route and status, latency, queue, models."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from server_helpers import resized

from helpers import PETS

pytestmark = pytest.mark.model


def scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Metric samples by name, then by sorted labels."""
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def requests_with(samples: dict, route: str, status: str) -> float:  # type: ignore[type-arg]
    key = (("method", "POST"), ("route", route), ("status", status))
    return samples.get("alphacut_http_requests_total", {}).get(key, 0.0)


def test_metrics_count_requests_by_route_and_status(server_url) -> None:
    before = scrape(server_url)
    assert httpx.post(f"{server_url}/v1/mask", content=resized(PETS[1], 200)).status_code == 200
    assert httpx.post(f"{server_url}/v1/mask?nope=1", content=b"x").status_code == 422
    after = scrape(server_url)
    for status in ("200", "422"):
        assert requests_with(after, "/v1/mask", status) == \
            requests_with(before, "/v1/mask", status) + 1


def test_metrics_latency_histogram_and_stages(server_url) -> None:
    httpx.post(f"{server_url}/v1/mask", content=resized(PETS[1], 200), timeout=60)
    samples = scrape(server_url)
    counts = samples["alphacut_http_request_duration_seconds_count"]
    assert counts[(("route", "/v1/mask"),)] >= 1
    buckets = samples["alphacut_http_request_duration_seconds_bucket"]
    assert buckets[(("le", "+Inf"), ("route", "/v1/mask"))] == counts[(("route", "/v1/mask"),)]
    stages = samples["alphacut_stage_seconds_count"]
    assert stages[(("stage", "infer"),)] >= 1 and stages[(("stage", "decode"),)] >= 1


def test_metrics_queue_depth_and_models_loaded(server_url) -> None:
    samples = scrape(server_url)
    assert samples["alphacut_queue_depth"][()] == 0
    assert samples["alphacut_in_flight"][()] == 0
    assert samples["alphacut_models_loaded"][()] >= 1
    assert samples["alphacut_model_loaded"][(("model", "u2netp"),)] == 1


def test_unknown_paths_share_one_label(server_url) -> None:
    for path in ("/a", "/b", "/c"):
        httpx.get(f"{server_url}{path}")
    samples = scrape(server_url)
    routes = {dict(labels)["route"] for labels in samples["alphacut_http_requests_total"]}
    assert "unmatched" in routes
    assert not routes & {"/a", "/b", "/c"}


def test_each_app_has_its_own_registry() -> None:
    from alphacut.interfaces.server.app import create_app
    from alphacut.interfaces.server.settings import ServerSettings

    settings = ServerSettings(model="u2netp", models=("u2netp",), preload=False)
    first, second = create_app(settings), create_app(settings)
    first.state.alphacut.metrics.observe_request("/x", "GET", 200, 0.1)
    text = second.state.alphacut.metrics.render()[0].decode()
    assert 'route="/x"' not in text
