"""``alphacut remove`` misused as a careless user would: typed errors, nothing lost or stray."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from helpers import PETS

CLI = [sys.executable, "-m", "alphacut.interfaces.cli"]


def alphacut(*args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
    kw.setdefault("capture_output", True)
    return subprocess.run([*CLI, *args], timeout=300, **kw)  # type: ignore[call-overload]


def no_traceback(run: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in run.stderr, run.stderr.decode()


@pytest.mark.model
def test_three_colliding_inputs_give_three_files(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a-png.jpg", "a.jpg"):
        shutil.copy(PETS[0], src / name)
    Image.open(PETS[1]).save(src / "a.png")
    out = tmp_path / "out"
    run = alphacut("remove", str(src / "a-png.jpg"), str(src / "a.jpg"), str(src / "a.png"),
                   str(src / "a.jpg"), "-o", str(out), "-m", "u2netp")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a-png-2.png", "a-png.png", "a.png"]
    assert b"3 written" in run.stderr  # a.jpg given twice is one job


def test_one_name_for_many_inputs_fails_before_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = alphacut("remove", *map(str, PETS[:3]), "-o", str(out), "--name", "same.png",
                   "-m", "u2netp", "-q")
    assert run.returncode == 2 and b"same.png" in run.stderr
    no_traceback(run)
    assert not out.exists()


@pytest.mark.parametrize("template", ["{", "}", "{stem:>99999999999999999999}", "{nope}",
                                      "../escape-{stem}.png", "ABS/abs-{stem}.png"])
def test_bad_templates_are_typed_errors_and_write_nothing(tmp_path: Path, template: str
                                                          ) -> None:
    out = tmp_path / "deep" / "out"
    template = template.replace("ABS", str(tmp_path / "elsewhere"))
    run = alphacut("remove", str(PETS[0]), str(PETS[1]), "-o", str(out), "--name", template,
                   "-m", "u2netp", "-q")
    assert run.returncode == 2, run.stderr
    assert b"--name" in run.stderr
    no_traceback(run)
    assert not any(tmp_path.rglob("*.png"))


@pytest.mark.model
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_stdout_is_an_output_error() -> None:
    with open("/dev/full", "wb") as full:
        run = alphacut("remove", "-", "-m", "u2netp", "-q", input=PETS[0].read_bytes(),
                       stdout=full, capture_output=False, stderr=subprocess.PIPE)
    assert run.returncode == 4, run.stderr
    assert b"stdout" in run.stderr
    no_traceback(run)
    closed = alphacut("remove", "-", "-m", "u2netp", "-q", input=PETS[0].read_bytes(),
                      capture_output=False, stderr=subprocess.PIPE,
                      preexec_fn=lambda: os.close(1))
    assert closed.returncode == 4 and b"stdout" in closed.stderr
    no_traceback(closed)


def test_a_file_name_for_a_folder_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(PETS[0], src / "a.jpg")
    target = tmp_path / "result.png"
    run = alphacut("remove", str(src), "-o", str(target), "-m", "u2netp", "-q")
    assert run.returncode == 2 and b"names a file" in run.stderr
    assert not target.exists()
    glob_run = alphacut("remove", str(src / "*.jpg"), "-o", str(target), "-m", "u2netp", "-q")
    assert glob_run.returncode == 2 and not target.exists()


def test_a_bad_background_fails_before_any_input(tmp_path: Path) -> None:
    bad = tmp_path / "bg.jpg"
    bad.write_bytes(b"not an image at all")
    out = tmp_path / "out"
    run = alphacut("remove", *map(str, PETS), "-o", str(out), "--bg", str(bad),
                   "-m", "u2netp", "-q")
    assert run.returncode == 2
    stderr = run.stderr.decode()
    assert "--bg" in stderr and str(bad) in stderr
    assert "failed:" not in stderr and "written" not in stderr  # no per-image failure list
    assert not out.exists()
    stdin = alphacut("remove", "-", "--bg", str(bad), "-m", "u2netp", "-q",
                     input=PETS[0].read_bytes())
    assert stdin.returncode == 2 and b"--bg" in stdin.stderr and not stdin.stdout
