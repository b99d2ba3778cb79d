"""Fixtures for the Ray engine: a local Ray, a simulated two-node cluster, an S3 server on
loopback, a per-test time limit. Everything skips cleanly when ``alphacut[ray]`` is absent."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason="needs alphacut[ray]")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raytools import NODE, OBJECT_STORE, no_strays_left

from helpers import ROOT

TEST_LIMIT_S = 240
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


@pytest.fixture(autouse=True)
def time_limit() -> Iterator[None]:
    """Fail (not hang) a test that runs past ``TEST_LIMIT_S``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"test ran past {TEST_LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) on 127.0.0.1, a free port.

    Its address and dummy credentials are in the environment before any Ray starts, so the
    driver and every worker reach the same server.
    """
    server_mod = pytest.importorskip("moto.server", reason="needs moto[server]")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in [*S3_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update({**S3_ENV, "AWS_ENDPOINT_URL": endpoint})
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _worker_env() -> None:
    """Workers import this checkout's alphacut (tests may run without an install)."""
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH", "")
    if src not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (src, path) if p)


@pytest.fixture(scope="module")
def local_ray(s3_endpoint: str) -> Iterator[None]:
    """``ray.init(num_cpus=2)`` for the module, shut down after it."""
    import ray

    _worker_env()
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=OBJECT_STORE,
             log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        no_strays_left()


@pytest.fixture(scope="module")
def simulated_cluster() -> Iterator[Any]:
    """A simulated two-node cluster on this machine (``ray.cluster_utils.Cluster``), one CPU
    per node, the driver connected to it; yields the ``Cluster`` (tests may add and remove
    nodes; the module's other tests only need two alive)."""
    import ray
    from ray.cluster_utils import Cluster

    _worker_env()
    cluster = Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    cluster.add_node(**NODE)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster
    finally:
        try:
            ray.shutdown()
        finally:
            cluster.shutdown()
        no_strays_left()


@pytest.fixture(scope="module")
def two_nodes(simulated_cluster: Any) -> str:
    """The simulated cluster's address."""
    return str(simulated_cluster.address)
