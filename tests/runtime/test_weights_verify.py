"""Cached weights are not trusted forever: a damaged file is caught, moved aside and fetched
again (or, offline, reported with what to do); a user spec's sha256 is checked.

Uses a copy of the real u2netp weights in a temporary ALPHACUT_HOME (the real cache is only
read) and the local HTTP server for re-fetches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from fake_registry import PAYLOAD, FakeServer, Reply, cache_listing, installed, make_spec

from alphacut.errors import WeightsError
from alphacut.models.registry import get_spec, load_spec_file
from alphacut.models.spec import ModelSpec, Source
from alphacut.runtime.weights import cached_path, ensure_weights, verify

U2NETP = get_spec("u2netp")
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.jpg"


def flip_middle(path: Path) -> None:
    """Invert 4 bytes in the middle of the file (the hostile review's corruption)."""
    middle = path.stat().st_size // 2
    with open(path, "r+b") as f:
        f.seek(middle)
        data = f.read(4)
        f.seek(middle)
        f.write(bytes(b ^ 0xFF for b in data))


def truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


DAMAGE: dict[str, Callable[[Path], None]] = {"flipped": flip_middle, "truncated": truncate_half}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def served(server: FakeServer, real_u2netp: Path) -> ModelSpec:
    """u2netp's spec with one source: the real file on the local server."""
    server.routes["/u2netp.onnx"] = Reply(real_u2netp.read_bytes())
    return replace(U2NETP, sources=(Source("url", url=f"{server.url}/u2netp.onnx"),))


# --------------------------------------------------------------------------- cache files


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_cached_file_is_fetched_again(
    server: FakeServer, real_u2netp: Path, cached_copy: Path, damage: str
) -> None:
    spec = served(server, real_u2netp)
    DAMAGE[damage](cached_copy)

    path = ensure_weights(spec)

    assert path == cached_copy
    assert sha256_of(path) == U2NETP.sha256
    assert server.total_hits == 1
    assert cache_listing() == installed(path.name)  # the damaged copy is gone once replaced


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_cached_file_offline_says_what_is_wrong_and_what_to_do(
    server: FakeServer, real_u2netp: Path, cached_copy: Path, damage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = served(server, real_u2netp)
    size = cached_copy.stat().st_size
    DAMAGE[damage](cached_copy)
    monkeypatch.setenv("ALPHACUT_OFFLINE", "1")

    with pytest.raises(WeightsError) as info:
        ensure_weights(spec)

    message = str(info.value)
    assert str(cached_copy) in message
    assert U2NETP.sha256 in message
    assert "alphacut models pull u2netp" in message
    assert ("truncated" in message) == (damage == "truncated")
    assert f"{size:,}" in message
    assert server.total_hits == 0
    assert cached_path(spec) is None  # moved aside, not left to be loaded
    assert (cached_copy.parent / (cached_copy.name + ".corrupt")).is_file()


def test_damage_with_the_mtime_put_back_is_still_caught(
    cached_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ensure_weights(U2NETP) == cached_copy
    before = cached_copy.stat()
    flip_middle(cached_copy)
    os.utime(cached_copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    monkeypatch.setenv("ALPHACUT_OFFLINE", "1")

    with pytest.raises(WeightsError, match="sha256"):
        ensure_weights(U2NETP)


def test_unpinned_cached_file_is_checked_against_the_hash_recorded_at_download(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHACUT_ALLOW_UNPINNED", "1")
    server.routes["/model.onnx"] = Reply(PAYLOAD)
    spec = make_spec(Source("url", url=f"{server.url}/model.onnx"), sha256=None)
    path = ensure_weights(spec)
    flip_middle(path)

    assert ensure_weights(spec).read_bytes() == PAYLOAD
    assert server.total_hits == 2


def test_a_good_file_is_hashed_once_per_change_not_per_run(
    cached_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[Path] = []
    real_hash = verify.sha256_file
    monkeypatch.setattr(verify, "sha256_file", lambda p: hashed.append(p) or real_hash(p))
    stamp = cached_copy.with_name(cached_copy.name + ".verified")
    monkeypatch.setenv("ALPHACUT_OFFLINE", "1")

    for _ in range(2):
        assert ensure_weights(U2NETP) == cached_copy
    verify.clear_memo()  # a new process: the stamp answers
    assert ensure_weights(U2NETP) == cached_copy
    assert len(hashed) == 1
    assert json.loads(stamp.read_text())["sha256"] == U2NETP.sha256

    os.utime(cached_copy)  # touched: hashed again, still good
    assert ensure_weights(U2NETP) == cached_copy
    stamp.write_text("{not json")
    verify.clear_memo()
    assert ensure_weights(U2NETP) == cached_copy
    assert len(hashed) == 3
    assert cache_listing() == installed(cached_copy.name)


def test_cached_run_imports_no_network_tls_or_archive_module(cached_copy: Path) -> None:
    probe = (
        "import sys; from alphacut.models.registry import get_spec; "
        "from alphacut.runtime.weights import ensure_weights; ensure_weights(get_spec('u2netp')); "
        "print([m for m in ('urllib.request', 'http.client', 'ssl', 'socket', 'tarfile', "
        "'zipfile', 'email', 'alphacut.runtime.weights.download') if m in sys.modules])"
    )
    for _ in range(2):  # hashing and stamping, then the stamp
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              env={**os.environ, "ALPHACUT_OFFLINE": "1"}, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- user models


def test_user_spec_sha256_is_checked(tmp_path: Path, real_u2netp: Path) -> None:
    own = tmp_path / "mine.onnx"
    shutil.copyfile(real_u2netp, own)
    spec_file = tmp_path / "mine.json"
    spec_file.write_text(json.dumps({"onnx": "mine.onnx", "input_size": [320, 320],
                                     "sha256": str(U2NETP.sha256).upper()}))
    spec = load_spec_file(spec_file)
    assert ensure_weights(spec) == own

    flip_middle(own)
    with pytest.raises(WeightsError) as info:
        ensure_weights(spec)
    message = str(info.value)
    assert str(own) in message and "sha256" in message and str(U2NETP.sha256) in message
    assert own.is_file()  # the user's own file is never moved or deleted

    wrong = replace(spec, sha256="0" * 64)
    shutil.copyfile(real_u2netp, own)
    with pytest.raises(WeightsError, match="0000000000"):
        ensure_weights(wrong)


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("damage", DAMAGE)
def test_cli_with_damaged_weights_offline_exits_3_and_says_what_to_run(
    cached_copy: Path, tmp_path: Path, damage: str
) -> None:
    DAMAGE[damage](cached_copy)
    out = tmp_path / "out.png"
    env = {**os.environ, "ALPHACUT_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "alphacut.interfaces.cli", "remove", str(SAMPLE), "-o", str(out),
         "-m", "u2netp"], capture_output=True, env=env, timeout=300,
    )
    assert done.returncode == 3, done.stderr.decode()
    assert b"alphacut models pull u2netp" in done.stderr
    assert not out.exists()
